"""The receiving side: Meta's signature and handshake (wire-facts §5.4, §5.5), and webhook
bodies as typed events (§5.1-§5.3)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from wabox.client.types import (
    InboundMessage,
    MediaRef,
    Pricing,
    Status,
    WebhookError,
    WebhookEvent,
)

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether a webhook POST really comes from Meta (wire-facts §5.5).

    Check it on the raw bytes, before parsing: re-serialising a parsed body would change the
    bytes and so the HMAC. The comparison takes constant time.

    Args:
        raw_body: The request body exactly as received.
        header: The ``X-Hub-Signature-256`` header (``sha256=<hex>``), or None if absent.
        app_secret: The app secret the signature was made with.

    Returns:
        True when the header is the HMAC-SHA256 of ``raw_body`` under ``app_secret``; False
        when it differs, is malformed or is missing.
    """
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def verify_handshake(query: Mapping[str, str], verify_token: str) -> str | None:
    """Answer Meta's verification GET, sent when the callback URL or token is set (§5.4).

    Args:
        query: The GET's query parameters (``hub.mode``, ``hub.verify_token``,
            ``hub.challenge``).
        verify_token: The token configured with the webhook.

    Returns:
        The ``hub.challenge`` to echo as the body of a 200, or None: answer 403.
    """
    if query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")


def parse_webhook(body: bytes | str | Mapping[str, Any]) -> list[WebhookEvent]:
    """Parse a webhook body into typed events (§5.1-§5.3).

    Unknown fields are ignored, so payloads from newer API versions still parse; changes of
    any other field than ``messages`` are skipped.

    Args:
        body: The raw body (bytes or text, JSON) or an already-decoded mapping.

    Returns:
        One ``WebhookEvent`` per ``entry[].changes[]`` of field ``messages``, in order, with
        its messages, statuses and errors.

    Raises:
        ValueError: The body is not JSON (``json.JSONDecodeError``) or not a WhatsApp
            Business Account webhook.
        KeyError: A message lacks its ``id``, or a status its ``id`` or ``status``.
    """
    data = json.loads(body) if isinstance(body, bytes | str) else body
    if not isinstance(data, Mapping) or data.get("object") != "whatsapp_business_account":
        raise ValueError("not a WhatsApp Business Account webhook")
    events = []
    for entry in data.get("entry", []):
        for change in entry.get("changes", []):
            if change.get("field", "messages") != "messages":
                continue
            value = change.get("value", {})
            metadata = value.get("metadata", {})
            names = {
                c.get("wa_id"): (c.get("profile") or {}).get("name")
                for c in value.get("contacts", [])
            }
            events.append(
                WebhookEvent(
                    waba_id=str(entry.get("id", "")),
                    phone_number_id=str(metadata.get("phone_number_id", "")),
                    display_phone_number=str(metadata.get("display_phone_number", "")),
                    messages=[_message(m, names) for m in value.get("messages", [])],
                    statuses=[_status(s) for s in value.get("statuses", [])],
                    errors=[_error(e) for e in value.get("errors", [])],
                )
            )
    return events


def _error(error: Mapping[str, Any]) -> WebhookError:
    data = error.get("error_data") or {}
    return WebhookError(
        code=int(error.get("code", 0)),
        title=str(error.get("title", "")),
        message=str(error.get("message", error.get("title", ""))),
        details=str(data.get("details", "")) if isinstance(data, Mapping) else "",
        href=error.get("href"),
    )


def _status(status: Mapping[str, Any]) -> Status:
    pricing = status.get("pricing")
    return Status(
        id=str(status["id"]),
        status=str(status["status"]),
        timestamp=int(status.get("timestamp", 0)),
        recipient_id=str(status.get("recipient_id", "")),
        errors=[_error(e) for e in status.get("errors", [])],
        pricing=(
            Pricing(
                category=str(pricing.get("category", "")),
                type=str(pricing.get("type", "")),
                billable=pricing.get("billable"),
                pricing_model=pricing.get("pricing_model"),
            )
            if isinstance(pricing, Mapping)
            else None
        ),
        biz_opaque_callback_data=status.get("biz_opaque_callback_data"),
    )


def _message(message: Mapping[str, Any], names: Mapping[Any, Any]) -> InboundMessage:
    kind = str(message.get("type", ""))
    content = message.get(kind)
    media = None
    if kind in MEDIA_TYPES and isinstance(content, Mapping):
        media = MediaRef(
            id=str(content.get("id", "")),
            mime_type=str(content.get("mime_type", "")),
            sha256=str(content.get("sha256", "")),
            url=content.get("url"),
            caption=content.get("caption"),
            filename=content.get("filename"),
            voice=content.get("voice"),
            animated=content.get("animated"),
        )
    sender = str(message.get("from", ""))
    return InboundMessage(
        id=str(message["id"]),
        from_=sender,
        timestamp=int(message.get("timestamp", 0)),
        type=kind,
        content=content,
        profile_name=names.get(sender),
        text=content.get("body") if kind == "text" and isinstance(content, Mapping) else None,
        media=media,
        reply_to=(message.get("context") or {}).get("id"),
        errors=[_error(e) for e in message.get("errors", [])],
    )
