"""Fetching a media link from its origin: limits, redirects, the SSRF guard, Meta's wording.

Every way a fetch can fail becomes a ``LinkFailure`` whose ``details`` are what the
failed status carries in ``error_data.details`` (131053). For HTTP errors that is Meta's
own sentence, "Downloading media from weblink failed with http code 403, status message
Forbidden" (wire-facts §4.3); the other kinds, which Meta words nowhere public, follow
the same opening and then say exactly what happened.
"""

from __future__ import annotations

import asyncio
import http
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from wabox import __version__
from wabox.links.guard import AddressGuard, BlockedAddress, GuardedResolver, ip_literal
from wabox.media.inspect import (
    SIZE_LIMITS,
    STICKER_ANIMATED_LIMIT,
    allowed_types,
    human_size,
    takes,
)
from wabox.media.store import Blob, BlobStore, BlobTooLarge, BlobWriter

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
READ_CHUNK = 256 * 1024
PREFIX = "Downloading media from weblink failed"
USER_AGENT = f"wabox/{__version__} (media link fetch)"


class LinkFailure(Exception):
    """A fetch that failed; ``reason`` is a short label for metrics and the inbox."""

    def __init__(self, reason: str, details: str, status: int | None = None) -> None:
        super().__init__(details)
        self.reason = reason
        self.details = details
        self.status = status


@dataclass(slots=True)
class Fetched:
    """The origin's answer: new bytes (``writer`` not yet committed) or "unchanged"."""

    status: int
    headers: dict[str, str]
    elapsed: float
    mime_type: str | None = None
    blob: Blob | None = None
    writer: BlobWriter | None = None

    @property
    def unchanged(self) -> bool:
        return self.blob is None


def size_limit(kind: str) -> int:
    """Largest body worth reading for a message type (stickers: the animated limit)."""
    return SIZE_LIMITS.get(kind, STICKER_ANIMATED_LIMIT)


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


class Fetcher:
    """One aiohttp session per process: pooled connections, guarded resolver."""

    def __init__(self, guard: AddressGuard, connect_timeout: float, total_timeout: float) -> None:
        self.guard = guard
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=GuardedResolver(self.guard), limit=200),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self.connect_timeout, sock_connect=self.connect_timeout
                ),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,  # no proxy from the environment may route around the guard
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(
        self,
        url: str,
        kind: str,
        blobs: BlobStore,
        *,
        validators: Mapping[str, str] | None = None,
        same: Callable[[Mapping[str, str]], bool] | None = None,
    ) -> Fetched:
        """GET ``url`` for a ``kind`` message and stream a 200's body into the store.

        ``validators`` make the request conditional; a 304, or a 200 for which ``same``
        says the cached copy is still current, returns without reading the body.
        """
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._follow(url, kind, blobs, validators or {}, same, started)
        except aiohttp.ClientError as exc:  # first: aiohttp's timeouts are TimeoutErrors too
            raise _failure(exc, self.connect_timeout) from exc
        except TimeoutError:
            raise LinkFailure(
                "timeout",
                f"{PREFIX}: the download did not finish within {self.total_timeout:g} s.",
            ) from None

    async def _follow(
        self,
        url: str,
        kind: str,
        blobs: BlobStore,
        validators: Mapping[str, str],
        same: Callable[[Mapping[str, str]], bool] | None,
        started: float,
    ) -> Fetched:
        for _ in range(MAX_REDIRECTS + 1):
            self._check_url(url)
            async with self._client().get(
                url, headers=dict(validators), allow_redirects=False
            ) as response:
                headers = {name.lower(): value for name, value in response.headers.items()}
                status = response.status
                if status in REDIRECTS and "location" in headers:
                    url = urljoin(url, headers["location"])
                    continue
                if status == 304 and validators:
                    return Fetched(status, headers, time.monotonic() - started)
                if status != 200:
                    reason = response.reason or _phrase(status)
                    raise LinkFailure(
                        "http_status",
                        f"{PREFIX} with http code {status}, status message {reason}",
                        status,
                    )
                if same is not None and same(headers):
                    return Fetched(status, headers, time.monotonic() - started)
                mime_type = _checked_type(headers.get("content-type"), kind)
                writer = await _read_body(response, headers, kind, blobs)
                try:
                    blob = await writer.finish()
                except BaseException:
                    await writer.abort()
                    raise
                return Fetched(status, headers, time.monotonic() - started, mime_type, blob, writer)
        raise LinkFailure("redirects", f"{PREFIX}: more than {MAX_REDIRECTS} redirects.")

    def _check_url(self, url: str) -> None:
        if not is_web_link(url):
            raise LinkFailure(
                "invalid_url", f"{PREFIX}: {url!r} is not an absolute http or https link."
            )
        parts = urlsplit(url)
        assert parts.hostname is not None
        address = ip_literal(parts.hostname)
        if address is not None and (refusal := self.guard.refusal(parts.hostname, address)):
            raise LinkFailure("blocked", refusal)


def is_web_link(url: str) -> bool:
    """A media link wabox may fetch: absolute, http or https, with a host. The accept path
    refuses others at once; the fetcher never connects to one."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def _read_body(
    response: aiohttp.ClientResponse, headers: Mapping[str, str], kind: str, blobs: BlobStore
) -> BlobWriter:
    limit = size_limit(kind)
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(kind, limit, f"its Content-Length is {declared} bytes")
    writer = blobs.writer(limit)
    try:
        async for chunk in response.content.iter_chunked(READ_CHUNK):
            await writer.write(chunk)
    except BlobTooLarge:
        await writer.abort()
        raise _too_large(kind, limit, "the body grew past it") from None
    except BaseException:
        await writer.abort()
        raise
    return writer


def _too_large(kind: str, limit: int, measured: str) -> LinkFailure:
    return LinkFailure(
        "too_large",
        f"{PREFIX}: the file is larger than {human_size(limit)} ({limit} bytes), the limit for "
        f"{kind} messages; {measured}.",
    )


def _checked_type(content_type: str | None, kind: str) -> str:
    allowed = allowed_types(kind)
    if not content_type or not media_type(content_type):
        raise LinkFailure(
            "content_type",
            f"{PREFIX}: the response has no Content-Type; the link must serve the file's MIME "
            f"type ({allowed} for {kind}).",
        )
    mime_type = media_type(content_type)
    if not takes(kind, mime_type):
        raise LinkFailure(
            "content_type",
            f"{PREFIX}: Content-Type {mime_type} is not supported for {kind} messages; "
            f"{kind} takes {allowed}.",
        )
    return mime_type


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _failure(exc: aiohttp.ClientError, connect_timeout: float) -> LinkFailure:
    """An aiohttp error in the words of the failed status."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        if isinstance(exc.os_error, BlockedAddress):
            return LinkFailure("blocked", exc.os_error.details)
        return LinkFailure("dns", f"{PREFIX}: the host {exc.host} could not be resolved.")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return LinkFailure(
            "connect_timeout",
            f"{PREFIX}: connecting to the host took longer than {connect_timeout:g} s.",
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        refused = exc.certificate_error
        return LinkFailure("tls", f"{PREFIX}: the TLS certificate of {exc.host} failed: {refused}.")
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError) or isinstance(
        getattr(exc, "os_error", None), ssl.SSLError
    ):
        return LinkFailure("tls", f"{PREFIX}: the TLS handshake failed: {exc}.")
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return LinkFailure(
                "refused", f"{PREFIX}: the connection to {exc.host}:{exc.port} was refused."
            )
        return LinkFailure(
            "connect", f"{PREFIX}: could not connect to {exc.host}:{exc.port}: {exc.os_error}."
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return LinkFailure(
            "connection", f"{PREFIX}: the connection closed before the whole file arrived."
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return LinkFailure("invalid_url", f"{PREFIX}: the link {exc.url} is not valid.")
    return LinkFailure("connection", f"{PREFIX}: {type(exc).__name__}: {exc}.")
