"""Short-lived download URLs: ``/whatsapp_business/attachments/?mid=…&ext=…&hash=…``.

The path and query are all that matter, so a 360dialog client that swaps the host for its
base URL (wire-facts §2.4) still gets through. The hash is an HMAC of the media ID and the
expiry with a secret only this server knows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode

ATTACHMENTS_PATH = "/whatsapp_business/attachments/"


def _signature(secret: bytes, media_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{media_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def signed_query(secret: bytes, media_id: str, ttl: float, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl)
    return urlencode(
        {"mid": media_id, "ext": str(expires), "hash": _signature(secret, media_id, expires)}
    )


def verify(secret: bytes, mid: str, ext: str, signature: str, now: float | None = None) -> bool:
    """True when the query was made by ``signed_query`` and has not expired."""
    if not ext.isdigit():
        return False
    expires = int(ext)
    if expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(secret, mid, expires), signature)
