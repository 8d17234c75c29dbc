"""Status webhooks a receiver cannot tell from Meta's (wire-facts §5.1, §5.3, §4.2)."""

from __future__ import annotations

from typing import Any

import msgspec

from wabox.api.errors import ERROR_CODES_HREF
from wabox.schema.errors import WebhookError
from wabox.schema.sandbox import Channel
from wabox.schema.webhooks import Change, Entry, Envelope, Metadata, Pricing, Status, Value

_encoder = msgspec.json.Encoder()


def pricing_for(message_type: str) -> Pricing:
    """Per-message pricing (PMP, since 1 July 2025): non-template messages are free
    customer service; templates are billed in their category (utility until the
    template registry says otherwise)."""
    if message_type == "template":
        return Pricing(billable=True, type="regular", category="utility")
    return Pricing(billable=False, type="free_customer_service", category="service")


def webhook_error(error: dict[str, Any]) -> WebhookError:
    """The stored failure (code, title, details) as a webhook ``errors[]`` member."""
    return WebhookError(
        code=int(error["code"]),
        title=str(error["title"]),
        message=str(error["title"]),
        error_data={"details": str(error.get("details") or error["title"])},
        href=ERROR_CODES_HREF,
    )


def status_payload(
    channel: Channel,
    *,
    wamid: str,
    status: str,
    timestamp: float,
    recipient: str,
    message_type: str,
    biz_opaque_callback_data: str | None = None,
    with_pricing: bool = False,
    error: dict[str, Any] | None = None,
) -> bytes:
    """One status in Meta's envelope. ``pricing`` rides on ``sent`` and ``delivered``;
    ``conversation`` is left out, as since v24.0 outside free entry points (§0.7)."""
    value = Value(
        metadata=Metadata(
            display_phone_number=channel.display_phone_number,
            phone_number_id=channel.phone_number_id,
        ),
        statuses=[
            Status(
                id=wamid,
                status=status,  # type: ignore[arg-type]
                timestamp=str(int(timestamp)),
                recipient_id=recipient,
                biz_opaque_callback_data=biz_opaque_callback_data,
                pricing=pricing_for(message_type) if with_pricing else None,
                errors=[webhook_error(error)] if error is not None else None,
            )
        ],
    )
    envelope = Envelope(entry=[Entry(id=channel.waba_id, changes=[Change(value=value)])])
    return _encoder.encode(envelope)
