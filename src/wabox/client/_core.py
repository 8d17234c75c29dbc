"""Requests and answers, free of I/O: the sync and the async client share all of it.

The two dialects differ only in paths and in the credential header (wire-facts §1.1,
§2): 360dialog puts ``D360-API-KEY`` on ``/messages``, ``/media`` and ``/{media_id}``;
the Cloud API puts ``Authorization: Bearer`` on ``/{version}/{phone_number_id}/…`` and
``/{version}/{media_id}``.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urlsplit

import httpx

from wabox.client.errors import TransportError, WhatsAppError, from_response
from wabox.client.types import HeaderMedia, MediaInfo, SentMessage

Dialect = Literal["360dialog", "cloud"]
Source = str | os.PathLike[str] | bytes | IO[bytes]
Progress = Callable[[int, int | None], None]  # bytes sent, total (None if unknown)
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
CHUNK = 256 * 1024

# First bytes → MIME type, for bytes and files without a telling name.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"ftyp3gp", 4, "video/3gpp"),
    (b"ftypM4A", 4, "audio/mp4"),
    (b"ftyp", 4, "video/mp4"),
)
_EXTRA_TYPES = {
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".webp": "image/webp",
    ".amr": "audio/amr",
}


@dataclass(frozen=True, slots=True)
class Target:
    dialect: Dialect
    base_url: str
    credential: str
    phone_number_id: str | None = None
    version: str = "v23.0"

    @property
    def headers(self) -> dict[str, str]:
        if self.dialect == "360dialog":
            return {"D360-API-KEY": self.credential}
        return {"Authorization": f"Bearer {self.credential}"}

    def path(self, what: Literal["messages", "media"]) -> str:
        if self.dialect == "360dialog":
            return f"/{what}"
        return f"/{self.version}/{self.phone_number_id}/{what}"

    def media_path(self, media_id: str) -> str:
        if not media_id.isdigit():
            raise ValueError(f"a media ID is all digits, got {media_id!r}")
        if self.dialect == "360dialog":
            return f"/{media_id}"
        return f"/{self.version}/{media_id}"

    def download_url(self, url: str) -> str:
        """360dialog: the URL's scheme and host become the API's own, path and query kept
        (wire-facts §2.4); the Cloud API downloads the URL as given, with the token."""
        if self.dialect != "360dialog":
            return url
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url.rstrip('/')}{parts.path}{query}"


# A business-scoped user ID (Meta's "Business-scoped user IDs"), as the server checks it.
_BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")


def envelope(to: str, kind: str, body: Any, reply_to: str | None = None) -> dict[str, Any]:
    """A message for ``to``: a phone number, or a customer's BSUID (sent as ``recipient``)."""
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient" if _BSUID.match(to) else "to": to,
        "type": kind,
        kind: body,
    }
    if reply_to is not None:
        message["context"] = {"message_id": reply_to}
    return message


def media_body(
    kind: str,
    *,
    media_id: str | None,
    link: str | None,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": media_id} if media_id is not None else {"link": link}
    if caption is not None:
        if kind not in ("image", "video", "document"):
            raise ValueError(f"{kind} messages take no caption")
        body["caption"] = caption
    if filename is not None:
        if kind != "document":
            raise ValueError("only documents take a filename")
        body["filename"] = filename
    return body


def one_source(media_id: str | None, link: str | None, path: Source | None) -> None:
    """360dialog's rule ("either, not both"), enforced before any request: exactly one of id,
    link and path."""
    given = [name for name, v in (("media_id", media_id), ("link", link), ("path", path)) if v]
    if len(given) != 1:
        raise ValueError(f"give exactly one of media_id, link and path (got {given or 'none'})")


def template_body(
    name: str,
    language: str,
    body_params: Sequence[str],
    header: HeaderMedia | str | None,
    components: Sequence[dict[str, Any]] | None,
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if isinstance(header, HeaderMedia):
        parts.append({"type": "header", "parameters": [header.parameter()]})
    elif isinstance(header, str):
        parts.append({"type": "header", "parameters": [{"type": "text", "text": header}]})
    if body_params:
        parameters = [{"type": "text", "text": value} for value in body_params]
        parts.append({"type": "body", "parameters": parameters})
    parts.extend(components or ())
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parts:
        template["components"] = parts
    return template


def sent(body: Any) -> SentMessage:
    contact = (body.get("contacts") or [{}])[0]
    message = body["messages"][0]
    return SentMessage(
        id=str(message["id"]),
        wa_id=str(contact.get("wa_id", "")),
        input=str(contact.get("input", "")),
        message_status=message.get("message_status"),
        user_id=contact.get("user_id"),
    )


def media_info(body: Any) -> MediaInfo:
    return MediaInfo(
        id=str(body["id"]),
        url=str(body["url"]),
        mime_type=str(body["mime_type"]),
        sha256=str(body["sha256"]),
        file_size=int(body["file_size"]),
    )


@contextlib.contextmanager
def transport_errors() -> Iterator[None]:
    """httpx's transport errors become ours, the original chained: the one place they are
    translated. Wrap a whole call, retries included, so only the last failure is raised."""
    try:
        yield
    except httpx.TransportError as exc:
        if isinstance(exc, TransportError):  # already translated by an inner call
            raise
        raise TransportError.wrap(exc) from exc


def check(response: httpx.Response) -> Any:
    """The JSON body of a success, or the typed error."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.is_success and isinstance(body, dict):
        return body
    raise from_response(response.status_code, body)


def detect_mime(name: str | None, head: bytes) -> str:
    if name:
        suffix = Path(name).suffix.lower()
        if suffix in _EXTRA_TYPES:
            return _EXTRA_TYPES[suffix]
        guessed = mimetypes.guess_type(name)[0]
        if guessed:
            return guessed
    for signature, offset, mime in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return mime
    return "application/octet-stream"


class ProgressReader:
    """A file whose reads report progress: httpx streams multipart parts by reading them."""

    def __init__(self, file: IO[bytes], total: int | None, progress: Progress | None) -> None:
        self._file = file
        self._total = total
        self._progress = progress
        self._sent = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(CHUNK if size is None or size < 0 else size)
        self._sent += len(chunk)
        if self._progress is not None and chunk:
            self._progress(self._sent, self._total)
        return chunk


@dataclass
class Upload:
    """An upload's parts, opened: ``close`` closes a file this client opened itself."""

    filename: str
    mime_type: str
    reader: ProgressReader
    opened: IO[bytes] | None

    def files(self) -> dict[str, Any]:
        return {"file": (self.filename, self.reader, self.mime_type)}

    def data(self) -> dict[str, str]:
        return {"messaging_product": "whatsapp", "type": self.mime_type}

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()


def open_upload(
    source: Source, mime_type: str | None, filename: str | None, progress: Progress | None
) -> Upload:
    import io

    opened: IO[bytes] | None = None
    if isinstance(source, bytes):
        file: IO[bytes] = io.BytesIO(source)
        total: int | None = len(source)
        name = filename or "file"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        file = opened = path.open("rb")
        total = path.stat().st_size
        name = filename or path.name
    else:
        file = source
        name = filename or Path(str(getattr(source, "name", "file"))).name
        total = _remaining(file)
    if mime_type is None:
        head = _peek(file)
        mime_type = detect_mime(name if name != "file" else None, head)
    return Upload(name, mime_type, ProgressReader(file, total, progress), opened)


def _peek(file: IO[bytes]) -> bytes:
    if not file.seekable():
        return b""
    at = file.tell()
    head = file.read(64)
    file.seek(at)
    return head


def _remaining(file: IO[bytes]) -> int | None:
    if not file.seekable():
        return None
    at = file.tell()
    end = file.seek(0, os.SEEK_END)
    file.seek(at)
    return end - at


def should_retry(error: Exception, method: str, attempt: int, retries: int) -> float | None:
    """Seconds to wait before trying again, or None. Only transient failures are retried,
    and a send (POST) only when the answer says it was not accepted: a lost answer to a
    send may hide an accepted message, and resending would deliver it twice."""
    if attempt >= retries:
        return None
    if isinstance(error, WhatsAppError):
        if not error.transient or error.code == 131056:  # the pair limit waits 6 s or more
            return None
        return min(0.25 * 2.0**attempt, 4.0)
    if isinstance(error, httpx.TransportError) and method in ("GET", "DELETE"):
        return min(0.25 * 2.0**attempt, 4.0)
    return None
