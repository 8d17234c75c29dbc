"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>`` (wire-facts §5.5)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
