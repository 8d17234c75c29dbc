"""Check a media link as wabox sees it: fetch, caching, and per message type, sendable or not.

The fetch is wabox's own (``wabox.links.fetcher.Fetcher``): the same timeouts, redirects,
size caps, Content-Type rule and 131053 wording. It takes two GETs. The first stops after
a 200's headers (``same`` answering yes, as a revalidation does), which gives the status,
the MIME type and the caching headers whatever the type. The second fetches the body as a
message of the one type that takes that MIME type (WhatsApp's lists do not overlap,
wire-facts §3), exactly as a send would, and the bytes then meet the rules of
``wabox.media.inspect`` in the order the delivery checks apply them: size, then content.
The other types are refused for their MIME type, in ``inspect``'s words.

Unlike a wabox server, the check connects to loopback and private addresses: the user
checks their own server, which is often ``localhost`` or on their LAN. The SSRF guard
stops a shared server from being aimed at its own network by API callers; a CLI run by
the user reaches nothing the user could not reach already. What a server with the default
guard would say is reported separately, as ``guard``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from wabox.links.cache import LinkCachePolicy, Revalidation, rule_for
from wabox.links.fetcher import Fetcher, LinkFailure, media_type
from wabox.links.guard import AddressGuard, ip_literal
from wabox.media.inspect import allowed_types, size_problem, takes, type_problem
from wabox.media.rules import stored_media_problem
from wabox.media.store import BlobStore

KINDS = ("audio", "document", "image", "sticker", "video")
POLICIES: tuple[LinkCachePolicy, ...] = ("seed", "fixed-10m")
CACHING_HEADERS = ("cache-control", "last-modified", "etag", "age", "expires", "pragma")
# The wabox server's defaults (WABOX_LINK_CONNECT_TIMEOUT, WABOX_LINK_TIMEOUT).
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 20.0
_EVERY_ADDRESS = "0.0.0.0/0 ::/0"


@dataclass(frozen=True, slots=True)
class CacheVerdict:
    """How a wabox channel with ``policy`` would reuse the link (``wabox.links.cache``).

    This is what the response's headers allow; wabox keeps a link only after a fetch it
    accepted for the message's type.
    """

    policy: LinkCachePolicy
    cached: bool
    fresh_for: float  # seconds reused without asking the origin
    revalidate: Revalidation | None  # how each use asks once fresh_for has run out
    why: str


@dataclass(frozen=True, slots=True)
class KindVerdict:
    """Whether the link can be sent as one message type; ``reason`` says why not."""

    sendable: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything ``check`` found out about one link.

    ``error`` and ``failure`` are set when the link cannot be fetched at all: the
    ``error_data.details`` of the 131053 a send would fail with, and its short label
    (``http_status``, ``refused``, ``timeout``…). ``size`` is the bytes actually read,
    None when the body was not downloaded (no type takes it, or it is too large).
    """

    url: str
    status: int | None
    error: str | None
    failure: str | None
    content_type: str | None
    content_length: int | None
    size: int | None
    caching_headers: dict[str, str]
    cache: dict[str, CacheVerdict]  # by channel link-cache policy: seed, fixed-10m
    kinds: dict[str, KindVerdict]  # audio, document, image, sticker, video
    guard: str | None  # why a wabox server with the default SSRF guard refuses the link
    elapsed: float

    @property
    def sendable_as(self) -> list[str]:
        return [kind for kind, verdict in self.kinds.items() if verdict.sendable]


def check(
    url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
    link_allow: str = "",
) -> CheckResult:
    """Fetch ``url`` as wabox would and report what it would do with it.

    Args:
        url: the media link.
        connect_timeout: seconds to connect, as ``WABOX_LINK_CONNECT_TIMEOUT``.
        total_timeout: seconds for each fetch, redirects included, as ``WABOX_LINK_TIMEOUT``.
        link_allow: the server's ``WABOX_LINK_ALLOW``, for the ``guard`` note only.

    Returns:
        The findings; a link that cannot be fetched is a result with ``error`` set.
    """
    return asyncio.run(
        acheck(
            url,
            connect_timeout=connect_timeout,
            total_timeout=total_timeout,
            link_allow=link_allow,
        )
    )


async def acheck(
    url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
    link_allow: str = "",
) -> CheckResult:
    """``check``, for callers already in an event loop."""
    started = time.monotonic()
    guard = await _guard_note(url, link_allow)
    fetcher = Fetcher(AddressGuard(_EVERY_ADDRESS), connect_timeout, total_timeout)
    try:
        with tempfile.TemporaryDirectory(prefix="wabox-check-") as folder:
            return await _check(url, fetcher, BlobStore.from_url(folder), guard, started)
    finally:
        await fetcher.close()


async def _check(
    url: str, fetcher: Fetcher, blobs: BlobStore, guard: str | None, started: float
) -> CheckResult:
    try:
        probe = await fetcher.fetch(url, "document", blobs, same=lambda _headers: True)
    except LinkFailure as failure:
        return CheckResult(
            url=url,
            status=failure.status,
            error=failure.details,
            failure=failure.reason,
            content_type=None,
            content_length=None,
            size=None,
            caching_headers={},
            cache={},
            kinds={kind: KindVerdict(False, failure.details) for kind in KINDS},
            guard=guard,
            elapsed=time.monotonic() - started,
        )
    headers = probe.headers
    mime_type = media_type(headers.get("content-type", "")) or None
    declared = headers.get("content-length", "")
    content_length = int(declared) if declared.isascii() and declared.isdigit() else None
    kinds = {kind: KindVerdict(False, _type_problem(kind, mime_type)) for kind in KINDS}
    size = None
    taker = next((kind for kind in KINDS if takes(kind, mime_type)), None)
    if taker is not None:
        kinds[taker], size, fetched_headers = await _fetch_as(
            fetcher, url, taker, blobs, content_length
        )
        headers = fetched_headers or headers
    return CheckResult(
        url=url,
        status=probe.status,
        error=None,
        failure=None,
        content_type=headers.get("content-type"),
        content_length=content_length,
        size=size,
        caching_headers={name: headers[name] for name in CACHING_HEADERS if name in headers},
        cache={policy: _cache_verdict(policy, headers) for policy in POLICIES},
        kinds=kinds,
        guard=guard,
        elapsed=time.monotonic() - started,
    )


async def _fetch_as(
    fetcher: Fetcher, url: str, kind: str, blobs: BlobStore, content_length: int | None
) -> tuple[KindVerdict, int | None, dict[str, str] | None]:
    """A send's fetch and rules for ``kind``: the verdict, bytes read and the 200's headers."""
    try:
        fetched = await fetcher.fetch(url, kind, blobs)
    except LinkFailure as failure:
        reason = failure.details
        if failure.reason == "too_large" and content_length is not None:
            reason = size_problem(kind, content_length) or reason
        return KindVerdict(False, reason), None, None
    assert fetched.writer is not None and fetched.blob is not None
    assert fetched.mime_type is not None
    blob = fetched.blob
    await fetched.writer.commit(blob)
    problem = await stored_media_problem(blobs, blob.sha256, kind, fetched.mime_type, blob.size)
    return KindVerdict(problem is None, problem), blob.size, fetched.headers


def _type_problem(kind: str, mime_type: str | None) -> str:
    """Why ``kind`` refuses the MIME type, for every kind whose list lacks it."""
    if mime_type is None:
        return f"The response has no Content-Type; {kind} takes {allowed_types(kind)}."
    return type_problem(kind, mime_type) or ""


def _cache_verdict(policy: LinkCachePolicy, headers: Mapping[str, str]) -> CacheVerdict:
    rule = rule_for(policy, headers)
    return CacheVerdict(policy, rule.store, rule.fresh_for, rule.revalidate, rule.why)


async def _guard_note(url: str, link_allow: str) -> str | None:
    """What the default SSRF guard says about the link's host: None when it may be fetched.

    As the guard's resolver: refused only when every address of the host is refused.
    """
    host = urlsplit(url).hostname
    if not host:
        return None
    guard = AddressGuard(link_allow)
    literal = ip_literal(host)
    if literal is not None:
        return guard.refusal(host, literal)
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None  # the fetch reports the unresolvable name
    refusals = [
        guard.refusal(host, ipaddress.ip_address(str(info[4][0]).partition("%")[0]))
        for info in infos
    ]
    if not refusals or any(refusal is None for refusal in refusals):
        return None
    return refusals[0]
