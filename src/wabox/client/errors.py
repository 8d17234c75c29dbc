"""Typed errors: one class per family of Graph error codes (wire-facts §4), and one for a
request that got no answer at all. Each class's docstring says when it is raised.

The tree::

    WaboxError
     +-- TransportError
     +-- WhatsAppError
          +-- AuthenticationError
          +-- PermissionDenied
          +-- InvalidRequest
          |    +-- NotFound
          +-- RateLimited
          +-- RecipientError
          +-- ReEngagementRequired
          +-- MediaUploadError
          +-- MediaDownloadError
          +-- TemplateError
          |    +-- TemplateNotFound
          +-- ServiceUnavailable

Every ``WhatsAppError`` carries what Meta sends: ``code``, ``title`` (the text of ``message``
after ``(#code)``), ``details`` (``error_data.details``), ``fbtrace_id`` and the HTTP status,
so callers can branch on the class and log the rest. Arguments the client rejects before any
request (two media sources, a caption on audio) raise ``ValueError``: they are bugs in the
caller, not failures worth catching.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

_MESSAGE = re.compile(r"^\(#(\d+)\)\s*(.*)$", re.S)


class WaboxError(Exception):
    """The root: catch it to handle every failure the client raises on purpose."""


class TransportError(WaboxError, httpx.TransportError):
    """The request got no answer: the connection was refused or dropped, DNS or TLS failed,
    or a timeout passed. Raised once the client's retries are spent (only GET and DELETE
    are retried: a lost answer to a send may hide an accepted message).

    The httpx error is chained as ``__cause__``. The class also subclasses
    ``httpx.TransportError``, so code written when httpx's errors escaped still catches it.
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)

    @classmethod
    def wrap(cls, error: httpx.TransportError) -> TransportError:
        """The error to raise ``from`` ``error``: its class and text, and the request."""
        request: httpx.Request | None
        try:
            request = error.request
        except RuntimeError:  # httpx raises when no request was attached
            request, where = None, ""
        else:
            # No query: a CDN download URL carries a signature that has no place in a log.
            where = f" ({request.method} {request.url.copy_with(query=None)})"
        detail = str(error) or "no detail"
        return cls(f"{type(error).__name__}: {detail}{where}", request=request)


class WhatsAppError(WaboxError):
    """The API (or 360dialog in front of it) answered with an error; raised as is for a
    code outside every family below."""

    transient = False  # worth retrying as it is

    def __init__(
        self,
        code: int,
        title: str,
        details: str = "",
        *,
        http_status: int = 0,
        fbtrace_id: str | None = None,
        subcode: int | None = None,
        raw: Any = None,
    ) -> None:
        self.code = code
        self.title = title
        self.details = details or title
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.subcode = subcode
        self.raw = raw
        super().__init__(f"({code}) {title}: {self.details}" if details else f"({code}) {title}")


class AuthenticationError(WhatsAppError):
    """0, 190 or HTTP 401: a wrong or expired token or API key."""


class PermissionDenied(WhatsAppError):
    """10, 200-299, 131005, 368 and other 403s."""


class InvalidRequest(WhatsAppError):
    """100, 131008, 131009, 131021, 131051, 33: the request itself is wrong."""


class NotFound(InvalidRequest):
    """100 with subcode 33: the object (a media ID) does not exist or is not yours."""


class RateLimited(WhatsAppError):
    """4, 80007, 130429, 131048, 131056, 133016: slow down; ``retry_after`` in seconds."""

    transient = True

    @property
    def retry_after(self) -> float:
        # Throughput (130429) frees up within a second; the pair limit (131056) lets one
        # message through every 6 s; the app and account limits are hourly.
        return {130429: 1.0, 131056: 6.0, 131048: 60.0}.get(self.code, 60.0)


class RecipientError(WhatsAppError):
    """131026 and 131050: the recipient cannot get this message."""


class ReEngagementRequired(WhatsAppError):
    """131047: more than 24 hours since the customer last wrote; send a template."""


class MediaUploadError(WhatsAppError):
    """131053: the media could not be used (a link that failed, a file that broke a rule)."""


class MediaDownloadError(WhatsAppError):
    """131052: a customer's media could not be downloaded."""


class TemplateError(WhatsAppError):
    """132000-132069: the template message does not fit its template."""


class TemplateNotFound(TemplateError):
    """132001: no approved template of that name and language."""


class ServiceUnavailable(WhatsAppError):
    """1, 2, 131000, 131016, 133004 and HTTP 5xx: the platform's trouble, worth a retry."""

    transient = True


_FAMILIES: dict[int, type[WhatsAppError]] = {
    0: AuthenticationError,
    190: AuthenticationError,
    10: PermissionDenied,
    131005: PermissionDenied,
    368: PermissionDenied,
    100: InvalidRequest,
    33: InvalidRequest,
    131008: InvalidRequest,
    131009: InvalidRequest,
    131021: InvalidRequest,
    131051: InvalidRequest,
    4: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    131048: RateLimited,
    131056: RateLimited,
    133016: RateLimited,
    131026: RecipientError,
    131050: RecipientError,
    131047: ReEngagementRequired,
    131053: MediaUploadError,
    131052: MediaDownloadError,
    132001: TemplateNotFound,
    1: ServiceUnavailable,
    2: ServiceUnavailable,
    131000: ServiceUnavailable,
    131016: ServiceUnavailable,
    133004: ServiceUnavailable,
}


def error_class(code: int, http_status: int = 0, subcode: int | None = None) -> type[WhatsAppError]:
    if code == 100 and subcode == 33:
        return NotFound
    found = _FAMILIES.get(code)
    if found is not None:
        return found
    if 200 <= code <= 299:
        return PermissionDenied
    if 132000 <= code <= 132069:
        return TemplateError
    if http_status == 401:
        return AuthenticationError
    if http_status >= 500:
        return ServiceUnavailable
    return WhatsAppError


def from_response(http_status: int, body: Any) -> WhatsAppError:
    """The error in a Graph envelope, a 360dialog body (``{"error": "…"}`` or ``meta``), or
    nothing usable at all."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = int(error.get("code", 0) or 0)
        message = str(error.get("message", ""))
        matched = _MESSAGE.match(message)
        title = matched.group(2) if matched else message
        data = error.get("error_data")
        details = str(data.get("details", "")) if isinstance(data, dict) else ""
        subcode = error.get("error_subcode")
        cls = error_class(code, http_status, subcode if isinstance(subcode, int) else None)
        return cls(
            code,
            title,
            details,
            http_status=http_status,
            fbtrace_id=error.get("fbtrace_id"),
            subcode=subcode if isinstance(subcode, int) else None,
            raw=body,
        )
    if isinstance(error, str):
        text = error
    elif isinstance(body, dict) and isinstance(body.get("meta"), dict):
        text = str(body["meta"].get("developer_message", ""))
    else:
        text = str(body)[:500] if body else f"HTTP {http_status}"
    cls = error_class(0 if http_status == 401 else -1, http_status)
    return cls(0 if http_status == 401 else -1, text, http_status=http_status, raw=body)
