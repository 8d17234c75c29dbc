"""The asset server: a folder's files, answered the way a media link's origin should answer.

For senders who host their own media links. Every 200 carries what Meta requires and what
the seed's caching section asks for (wire-facts §8; seed "Media links: how to set up
caching"): the MIME type in ``Content-Type``, ``Content-Length``, ``Last-Modified``, a strong
``ETag`` and the chosen ``Cache-Control``. On top of that it answers what any HTTP cache or
player may ask (RFC 9110): ``HEAD``, conditional GETs (``If-None-Match``, then
``If-Modified-Since``, §13.2.2) and single byte ranges (§14).

It is a plain ASGI application served by uvicorn, wabox's own server, rather than
Starlette's ``StaticFiles``: each rule above is a few lines here, so the behaviour is pinned
by this module and its tests instead of by a Starlette release (``StaticFiles`` sends no
``Cache-Control``, takes MIME types from the platform's table and serves dotfiles), and
Starlette stays inside ``api/`` and ``ui/`` (STYLE §2).

Only regular files under the folder are served. A request path is decoded (so ``%2e%2e``
is ``..``), any ``.``/``..`` segment or dotfile is refused, and the real path (symlinks
resolved) must still lie inside the folder: a symlink to a file outside is a 404, like a
missing file or a directory (no listings). Bodies are streamed in ``CHUNK`` pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import re
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Literal

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK = 64 * 1024
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8361  # next to wabox's 8360

# The WhatsApp media types (wire-facts §3) by extension, fixed here: the platform's
# mimetypes table varies (``.ogg`` may be application/ogg, ``.opus`` may be missing).
MEDIA_TYPES: dict[str, str] = {
    ".aac": "audio/aac",
    ".amr": "audio/amr",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",  # WhatsApp takes OPUS only inside OGG, as audio/ogg
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".3gp": "video/3gpp",
}
# Python's built-in table only (no /etc/mime.types), for every other extension.
_OTHER_TYPES = mimetypes.MimeTypes(filenames=())
_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """The ``Cache-Control`` every answer carries: ``max-age=N``, ``no-cache`` or ``no-store``.

    Under the seed's rules (``wabox.links.cache``, channel policy ``seed``) ``max-age=N``
    lets wabox reuse the file for N seconds without asking; ``no-cache`` keeps it but asks
    on every use (``If-Modified-Since`` against our ``Last-Modified``, a cheap 304 when
    unchanged); ``no-store`` is never kept. Meta, and wabox's ``fixed-10m`` policy, ignore
    the header and reuse every link for 10 minutes (wire-facts §0.1).
    """

    directive: Literal["max-age", "no-cache", "no-store"]
    seconds: int = 0  # max-age only

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"max-age must be 0 or more seconds, got {self.seconds}")
        if self.directive != "max-age" and self.seconds:
            raise ValueError(f"{self.directive} takes no seconds")

    @classmethod
    def max_age(cls, seconds: int) -> CachePolicy:
        return cls("max-age", seconds)

    @property
    def header(self) -> str:
        """The ``Cache-Control`` value."""
        return f"max-age={self.seconds}" if self.directive == "max-age" else self.directive


NO_CACHE = CachePolicy("no-cache")
NO_STORE = CachePolicy("no-store")
# The default is max-age, one hour. The seed's point is to let the fetcher reuse the file
# instead of downloading it for every message, and max-age is the one directive under which
# a reuse costs no request at all (no-cache asks every time). An hour rather than the
# seed's example of 604800 (a week) because this folder holds a developer's working files:
# an edited file is picked up within the hour, at once under --no-cache, or at once by
# changing the link's query string (wabox and Meta key their caches on the exact link).
DEFAULT_POLICY = CachePolicy.max_age(3600)


def content_type(name: str) -> str:
    """The MIME type for a file name, from its extension (case-insensitive)."""
    extension = os.path.splitext(name)[1].lower()
    known = MEDIA_TYPES.get(extension)
    if known is not None:
        return known
    guessed, _ = _OTHER_TYPES.guess_type("file" + extension, strict=True)
    return guessed or "application/octet-stream"


def etag_for(info: os.stat_result) -> str:
    """Strong: size and nanosecond mtime change whenever the file is rewritten (as nginx)."""
    return f'"{info.st_size:x}-{info.st_mtime_ns:x}"'


class AssetApp:
    """The ASGI application serving ``directory`` with ``cache`` as its ``Cache-Control``."""

    def __init__(self, directory: str | os.PathLike[str], cache: CachePolicy) -> None:
        self.root = os.path.realpath(directory)
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # served with lifespan="off"; no websockets
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _plain(send, 405, "Method Not Allowed", [(b"allow", b"GET, HEAD")])
            return
        found = await asyncio.to_thread(self.open_file, scope["path"])
        if found is None:
            await _plain(send, 404, "Not Found")
            return
        fd, info = found
        try:
            headers = _request_headers(scope)
            await self._answer(method, headers, scope["path"], fd, info, receive, send)
        finally:
            os.close(fd)

    def open_file(self, path: str) -> tuple[int, os.stat_result] | None:
        """An open descriptor and its stat for a served file, or None (a 404)."""
        segments = [segment for segment in path.split("/") if segment]
        if not segments or any(
            segment.startswith(".") or "\\" in segment or "\0" in segment for segment in segments
        ):
            return None
        real = os.path.realpath(os.path.join(self.root, *segments))
        if os.path.commonpath([self.root, real]) != self.root:
            return None  # a symlink leading out of the folder
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        return fd, info

    async def _answer(
        self,
        method: str,
        request: dict[str, str],
        path: str,
        fd: int,
        info: os.stat_result,
        receive: Receive,
        send: Send,
    ) -> None:
        size = info.st_size
        etag = etag_for(info)
        last_modified = formatdate(info.st_mtime, usegmt=True)
        validators = [
            (b"etag", etag.encode()),
            (b"last-modified", last_modified.encode()),
            (b"cache-control", self.cache.header.encode()),
        ]
        if _not_modified(request, etag, int(info.st_mtime)):
            # RFC 9110 §15.4.5: a 304 repeats the validators and Cache-Control of the 200.
            await send({"type": "http.response.start", "status": 304, "headers": validators})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            (b"content-type", content_type(path).encode()),
            *validators,
            (b"accept-ranges", b"bytes"),
        ]
        status, start, length = 200, 0, size
        # RFC 9110 §14.2: Range is defined for GET only; If-Range may turn it off.
        if method == "GET" and "range" in request and _if_range(request, etag, last_modified):
            wanted = byte_range(request["range"], size)
            if wanted == "unsatisfiable":
                await _plain(
                    send,
                    416,
                    "Range Not Satisfiable",
                    [(b"content-range", f"bytes */{size}".encode())],
                )
                return
            if wanted is not None:
                first, last = wanted
                status, start, length = 206, first, last - first + 1
                headers.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
        headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        await _stream(fd, start, length, receive, send)


def byte_range(value: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The inclusive ``(first, last)`` of one ``bytes=`` range, clamped to ``size``.

    None means "ignore the header and send the whole file", which RFC 9110 §14.2 allows
    for any Range a server does not support: other units, invalid syntax, and several
    ranges (a multipart/byteranges answer gains a media fetcher nothing).
    """
    match = _RANGE.fullmatch(value)
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"  # §14.1.3: a zero suffix or an empty file selects nothing
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # §14.1.1: invalid, so the whole header is ignored
    if start >= size:
        return "unsatisfiable"
    return start, min(int(last), size - 1) if last else size - 1


def _request_headers(scope: Scope) -> dict[str, str]:
    """Names lowercased; a repeated field is joined with commas (RFC 9110 §5.3)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _not_modified(request: dict[str, str], etag: str, mtime: int) -> bool:
    """RFC 9110 §13.2.2: If-None-Match when present, else If-Modified-Since."""
    if "if-none-match" in request:
        value = request["if-none-match"].strip()
        if value == "*":
            return True
        # §13.1.2: If-None-Match uses the weak comparison, so W/"x" matches "x".
        return any(tag == etag[1:-1] for _, tag in _ENTITY_TAG.findall(value))
    since = _http_date(request.get("if-modified-since"))
    return since is not None and mtime <= since


def _if_range(request: dict[str, str], etag: str, last_modified: str) -> bool:
    """Whether Range applies: no If-Range, or one that matches exactly (§13.1.5)."""
    value = request.get("if-range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison: a weak tag never matches
    return value == last_modified


def _http_date(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if date.tzinfo is None:  # "-0000": HTTP dates are GMT all the same (RFC 9110 §5.6.7)
        date = date.replace(tzinfo=UTC)
    return int(date.timestamp())


async def _stream(fd: int, start: int, length: int, receive: Receive, send: Send) -> None:
    """``length`` bytes from ``start``, a chunk at a time; stops when the client leaves."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    try:
        offset, remaining = start, length
        while remaining > 0 and not gone.is_set():
            chunk = await asyncio.to_thread(os.pread, fd, min(CHUNK, remaining), offset)
            if not chunk:
                break  # the file shrank under us: uvicorn closes the short response
            offset += len(chunk)
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if length == 0 or (remaining > 0 and not gone.is_set()):
            await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _plain(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = f"{text}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(
    directory: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    cache: CachePolicy = DEFAULT_POLICY,
) -> None:
    """Serve ``directory`` on ``host:port`` until interrupted (Ctrl-C).

    Args:
        directory: the folder whose files are served; nothing outside it ever is.
        host: address to listen on.
        port: port to listen on.
        cache: the ``Cache-Control`` of every answer (default ``max-age=3600``).
    """
    if not os.path.isdir(directory):
        raise NotADirectoryError(f"{directory} is not a folder")
    uvicorn.run(
        AssetApp(directory, cache),
        host=host,
        port=port,
        lifespan="off",
        ws="none",
        log_level="info",
    )
