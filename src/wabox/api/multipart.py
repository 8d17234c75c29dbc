"""A streaming multipart/form-data reader: parts arrive as events, file bytes as they come.

Starlette's ``request.form()`` spools a file to disk before the handler sees it; an upload
here must reach the object store while it is still arriving, so the parser is driven
chunk by chunk (python-multipart) and its callbacks become events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

MAX_HEADER_BYTES = 8 * 1024


@dataclass(slots=True)
class PartStart:
    name: str
    filename: str | None
    content_type: str | None


@dataclass(slots=True)
class PartData:
    """A view into the received chunk: a 100 MB file is not copied on its way through."""

    data: memoryview


@dataclass(slots=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None


@dataclass(slots=True)
class _State:
    events: list[Event] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    ended: bool = False


async def read_parts(chunks: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[Event]:
    state = _State()

    def on_part_begin() -> None:
        state.headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[bytes(state.header_field).lower()] = bytes(state.header_value)
        state.header_field.clear()
        state.header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        content_type = state.headers.get(b"content-type")
        state.events.append(
            PartStart(
                name=name,
                filename=filename.decode("utf-8", "replace") if filename is not None else None,
                content_type=content_type.decode("latin-1").strip()
                if content_type is not None
                else None,
            )
        )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state.events.append(PartData(memoryview(data)[start:end]))

    def on_part_end() -> None:
        state.events.append(PartEnd())

    def on_end() -> None:
        state.ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
        max_header_size=MAX_HEADER_BYTES,
    )
    async for chunk in chunks:
        try:
            parser.write(chunk)
        except Exception as exc:
            raise MultipartError(f"malformed multipart body: {exc}") from exc
        events, state.events = state.events, []
        for event in events:
            yield event
    if not state.ended:
        raise MultipartError("the multipart body ended before its closing boundary")
