"""Media endpoints in both dialects: upload, retrieve the URL, download, delete (wire-facts §2)."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wabox.api.auth import Dialect, authenticate, channel_for_path
from wabox.api.http import error_response, json_response
from wabox.api.multipart import (
    MultipartError,
    PartData,
    PartEnd,
    PartStart,
    boundary_of,
    read_parts,
)
from wabox.errors import (
    AttachmentNotFound,
    InvalidParameter,
    ObjectNotFound,
    RangeNotSatisfiable,
    TooManyCalls,
    UploadTooLarge,
)
from wabox.media.ingest import keep_blob
from wabox.media.retention import release_bytes
from wabox.media.store import BlobTooLarge, BlobWriter
from wabox.media.types import MAX_UPLOAD_BYTES, UPLOAD_TYPES, upload_type_error
from wabox.media.urls import ATTACHMENTS_PATH, signed_query, verify
from wabox.runtime import Runtime
from wabox.schema.media import MediaUrl, UploadedMedia
from wabox.schema.sandbox import Channel
from wabox.store.media import MediaRow, delete_media, get_live_media

# Room for the multipart framing and the small form fields around a 100 MB file.
MULTIPART_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 1024
# pywa sends ttl_minutes for "No Storage" numbers (wire-facts §2.1); it is accepted and
# ignored: media lives WABOX_MEDIA_TTL.
FORM_FIELDS = ("messaging_product", "type", "file", "ttl_minutes")


def _too_large() -> UploadTooLarge:
    return UploadTooLarge(
        f"Param file is too large: the largest accepted file is {MAX_UPLOAD_BYTES} bytes (100 MB)."
    )


# --- upload -----------------------------------------------------------------------------------


async def _upload(
    request: Request, runtime: Runtime, channel: Channel, graph: bool = False
) -> Response:
    if not await runtime.upload_limiter.allow(channel.phone_number_id, runtime.clock.now()):
        raise TooManyCalls(
            f"POST /media is limited to {runtime.config.media_upload_rate} requests per second "
            "per phone number."
        )
    boundary = boundary_of(request.headers.get("content-type", ""))
    if boundary is None:
        raise InvalidParameter(
            "The upload must be multipart/form-data with the fields messaging_product, file and "
            "(optionally) type."
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
        raise _too_large()
    fields: dict[str, str] = {}
    writer: BlobWriter | None = None
    file_type = filename = None
    try:
        current: PartStart | None = None
        field_value = bytearray()
        async for event in read_parts(request.stream(), boundary):
            if isinstance(event, PartStart):
                current, field_value = event, bytearray()
                if event.name not in FORM_FIELDS:
                    raise InvalidParameter(f'Unexpected key "{event.name}" on param "<form>".')
                if event.name == "file":
                    if writer is not None:
                        raise InvalidParameter("Param file must be given once.")
                    # wire-facts §2.1: the part's own Content-Type is the declared type, and
                    # a parameterised value ("audio/ogg; codecs=opus") is refused.
                    file_type = event.content_type or "application/octet-stream"
                    if file_type not in UPLOAD_TYPES:
                        raise InvalidParameter(upload_type_error(file_type))
                    filename = base_name(event.filename)
                    writer = runtime.blobs.writer(MAX_UPLOAD_BYTES)
            elif isinstance(event, PartData) and current is not None:
                if current.name == "file" and writer is not None:
                    await writer.write(event.data)
                else:
                    field_value += event.data
                    if len(field_value) > MAX_FIELD_BYTES:
                        raise InvalidParameter(f"Param {current.name} is too long.")
            elif isinstance(event, PartEnd) and current is not None:
                if current.name != "file":
                    fields[current.name] = field_value.decode("utf-8", "replace")
                current = None
        if graph:  # Graph reads parameters from the query string too; the body wins
            for name in FORM_FIELDS:
                if name != "file" and name not in fields and name in request.query_params:
                    fields[name] = request.query_params[name]
        _check_fields(fields, file_type, writer)
        assert writer is not None and file_type is not None
        blob = await writer.finish()
        row = await keep_blob(
            runtime.database,
            runtime.blobs,
            writer,
            blob,
            channel_id=channel.phone_number_id,
            mime_type=file_type,
            filename=filename,
            ttl=runtime.config.media_ttl,
            source="upload",
            now=runtime.clock.now(),
        )
        writer = None
    except BlobTooLarge as exc:
        raise _too_large() from exc
    except MultipartError as exc:
        raise InvalidParameter(f"The upload is not valid multipart/form-data: {exc}") from exc
    finally:
        if writer is not None:
            await writer.abort()
    return json_response(UploadedMedia(id=row.id))


def _check_fields(fields: dict[str, str], file_type: str | None, writer: BlobWriter | None) -> None:
    product = fields.get("messaging_product")
    if product is None:
        raise InvalidParameter("The parameter messaging_product is required.")
    if product.lower() != "whatsapp":
        raise InvalidParameter(
            f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".'
        )
    if writer is None or file_type is None:
        raise InvalidParameter("The parameter file is required.")
    # ``type`` is not compared with the file: Meta takes the media type from the file part's
    # own Content-Type, whatever ``type`` says (a file part sent as
    # application/octet-stream is refused even with type=image/png).


async def upload_media_360dialog(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await authenticate(request, runtime, "360dialog")
    return await _upload(request, runtime, channel)


async def upload_media_cloud(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await channel_for_path(request, runtime, request.path_params["phone_number_id"])
    return await _upload(request, runtime, channel, graph=True)


# --- retrieve and delete ----------------------------------------------------------------------


async def _media_channel(request: Request, runtime: Runtime, dialect: Dialect) -> Channel:
    """The caller's channel; Cloud API's ``?phone_number_id=`` must name it (wire-facts §2.2)."""
    channel = await authenticate(request, runtime, dialect)
    wanted = request.query_params.get("phone_number_id")
    if wanted is not None and wanted != channel.phone_number_id:
        raise ObjectNotFound.for_object(request.method, request.path_params["media_id"])
    return channel


async def _live_media(request: Request, runtime: Runtime, channel: Channel) -> MediaRow:
    media_id = request.path_params["media_id"]
    row = await get_live_media(
        runtime.database, channel.phone_number_id, media_id, runtime.clock.now()
    )
    if row is None:
        raise ObjectNotFound.for_object(request.method, media_id)
    return row


async def _get_media_url(request: Request, dialect: Dialect) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await _media_channel(request, runtime, dialect)
    row = await _live_media(request, runtime, channel)
    query = signed_query(
        runtime.url_secret, row.id, runtime.config.media_url_ttl, runtime.clock.now()
    )
    base = str(request.base_url).rstrip("/")
    return json_response(
        MediaUrl(
            url=f"{base}{ATTACHMENTS_PATH}?{query}",
            mime_type=row.mime_type,
            sha256=row.sha256,
            file_size=row.file_size,
            id=row.id,
        )
    )


async def get_media_url_360dialog(request: Request) -> Response:
    return await _get_media_url(request, "360dialog")


async def get_media_url_cloud(request: Request) -> Response:
    return await _get_media_url(request, "cloud")


async def _delete_media(request: Request, dialect: Dialect) -> Response:
    runtime: Runtime = request.state.runtime
    channel = await _media_channel(request, runtime, dialect)
    media_id = request.path_params["media_id"]
    now = runtime.clock.now()
    sha256 = await delete_media(runtime.database, channel.phone_number_id, media_id, now)
    if sha256 is None:
        raise ObjectNotFound.for_object(request.method, media_id)
    await release_bytes(runtime.database, runtime.blobs, sha256, now)
    return json_response({"success": True})


async def delete_media_360dialog(request: Request) -> Response:
    return await _delete_media(request, "360dialog")


async def delete_media_cloud(request: Request) -> Response:
    return await _delete_media(request, "cloud")


# --- download ---------------------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range ``[start, end)`` a ``Range`` header asks for; None for the whole file."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        raise RangeNotSatisfiable(f"Unsupported Range header {header!r}: one bytes range only.")
    if not match[1]:
        start, end = max(0, size - int(match[2])), size
    else:
        start = int(match[1])
        end = min(size, int(match[2]) + 1) if match[2] else size
    if start >= size or start >= end:
        raise RangeNotSatisfiable(f"Range {header!r} is outside the file of {size} bytes.")
    return start, end


async def download_media(request: Request) -> Response:
    """The bytes behind a signed URL; needs the owning channel's key, as Meta's does."""
    runtime: Runtime = request.state.runtime
    dialect: Dialect = "360dialog" if "d360-api-key" in request.headers else "cloud"
    channel = await authenticate(request, runtime, dialect)
    query = request.query_params
    mid, ext, signature = query.get("mid", ""), query.get("ext", ""), query.get("hash", "")
    not_found = AttachmentNotFound(
        "The URL has expired or is not valid. Ask GET /{media_id} again."
    )
    if not verify(runtime.url_secret, mid, ext, signature, runtime.clock.now()):
        raise not_found
    now = runtime.clock.now()
    row = await get_live_media(runtime.database, channel.phone_number_id, mid, now)
    if row is None:
        raise not_found
    headers = {"Accept-Ranges": "bytes"}
    if row.filename:
        headers["Content-Disposition"] = _disposition(row.filename)
    try:
        wanted = byte_range(request.headers.get("range"), row.file_size)
    except RangeNotSatisfiable as exc:
        response = error_response(exc)
        response.headers["Content-Range"] = f"bytes */{row.file_size}"
        return response
    if wanted is None:
        body = await runtime.blobs.read(row.sha256)
        headers["Content-Length"] = str(row.file_size)
        return StreamingResponse(body, media_type=row.mime_type, headers=headers)
    start, end = wanted
    body = await runtime.blobs.read(row.sha256, start, end)
    headers["Content-Length"] = str(end - start)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.file_size}"
    return StreamingResponse(body, status_code=206, media_type=row.mime_type, headers=headers)


def base_name(sent: str | None) -> str | None:
    """The last part of an uploaded file's name (RFC 7578 §4.2): some clients send the
    uploader's whole path, which must not reach whoever downloads the file."""
    name = re.split(r"[\\/]", sent or "")[-1].strip()
    return name or None


def _disposition(filename: str) -> str:
    """``filename=`` last and alone for ASCII names: pywa splits the header on
    "filename=" and takes the rest as the name. Other names put the RFC 6266
    ``filename*`` first, with an ASCII fallback after it."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    if ascii_name == filename:
        return f'attachment; filename="{ascii_name}"'
    return f"attachment; filename*=UTF-8''{quote(filename)}; filename=\"{ascii_name}\""
