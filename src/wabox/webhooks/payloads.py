"""Status webhooks a receiver cannot tell from Meta's (wire-facts §5.1, §5.3, §4.2)."""

from __future__ import annotations

import functools
import hashlib
from typing import Any, cast

from wabox.errors import GraphError
from wabox.schema.sandbox import Channel, WebhookConfig
from wabox.schema.webhooks import (
    Change,
    Contact,
    Conversation,
    ConversationOrigin,
    Entry,
    Envelope,
    Metadata,
    Pricing,
    PricingType,
    Profile,
    Status,
    Value,
)
from wabox.webhooks.encoding import meta_json

# ISO region of a BSUID by calling code; the longest matching prefix wins, "US" otherwise.
_REGIONS = {
    "1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "33": "FR",
    "34": "ES", "39": "IT", "44": "GB", "49": "DE", "52": "MX", "54": "AR", "55": "BR",
    "57": "CO", "61": "AU", "62": "ID", "63": "PH", "65": "SG", "81": "JP", "82": "KR",
    "86": "CN", "90": "TR", "91": "IN", "92": "PK", "234": "NG", "254": "KE", "351": "PT",
    "353": "IE", "966": "SA", "971": "AE", "972": "IL",
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def business_scoped_user_id(waba_id: str, wa_id: str) -> str:
    """A stable BSUID for (business, customer), in Meta's ``<region>.<digits>`` form.

    Since 2026 Meta's status webhooks name the customer in ``contacts`` with a ``user_id``
    as well as ``wa_id``, and clients such as pywa 4.5 read it.
    """
    region = next((_REGIONS[wa_id[:n]] for n in (3, 2, 1) if wa_id[:n] in _REGIONS), "US")
    digest = hashlib.sha256(f"{waba_id}:{wa_id}".encode()).digest()
    return f"{region}.{int.from_bytes(digest[:8], 'big') % 10**20:020d}"


def pricing_for(category: str, pricing_type: str) -> Pricing:
    """Per-message pricing (PMP, since 1 July 2025), as decided at accept
    (``delivery/window.py``); ``billable`` is true only for what is charged."""
    kind = cast(PricingType, pricing_type)
    return Pricing(billable=kind == "regular", type=kind, category=category)


def status_payload(
    channel: Channel,
    *,
    wamid: str,
    status: str,
    timestamp: float,
    recipient: str,
    category: str,
    pricing_type: str,
    biz_opaque_callback_data: str | None = None,
    with_pricing: bool = False,
    error: GraphError | None = None,
) -> bytes:
    """One status in Meta's envelope. ``pricing`` rides on ``sent`` and ``delivered``, and
    so does ``conversation`` for a webhook subscribed before v24.0 or inside a free entry
    point; since v24.0 it is left out otherwise (Meta for Developers, WhatsApp Cloud API,
    Webhooks reference, "statuses": conversation)."""
    conversation = None
    if with_pricing and (
        pricing_type == "free_entry_point" or _before_v24(channel.settings.webhook)
    ):
        conversation = Conversation(
            id=_conversation_id(channel.waba_id, recipient, category, timestamp),
            expiration_timestamp=str(int(timestamp) + 86400) if status == "sent" else None,
            origin=ConversationOrigin(type=category),
        )
    value = Value(
        messaging_product="whatsapp",
        metadata=Metadata(
            display_phone_number=channel.display_phone_number,
            phone_number_id=channel.phone_number_id,
        ),
        contacts=[
            Contact(wa_id=recipient, user_id=business_scoped_user_id(channel.waba_id, recipient))
        ],
        statuses=[
            Status(
                id=wamid,
                status=status,  # type: ignore[arg-type]
                timestamp=str(int(timestamp)),
                recipient_id=recipient,
                biz_opaque_callback_data=biz_opaque_callback_data,
                conversation=conversation,
                pricing=pricing_for(category, pricing_type) if with_pricing else None,
                errors=[error.webhook_error()] if error is not None else None,
            )
        ],
    )
    envelope = Envelope(entry=[Entry(id=channel.waba_id, changes=[Change(value=value)])])
    return meta_json(envelope)


def _before_v24(config: WebhookConfig | None) -> bool:
    if config is None or config.version is None:
        return False  # wabox's webhooks are at the current shape unless told otherwise
    major, _, minor = config.version.removeprefix("v").partition(".")
    return (int(major), int(minor)) < (24, 0)


def _conversation_id(waba_id: str, recipient: str, category: str, timestamp: float) -> str:
    """One id per customer, category and day: a simulated 24-hour conversation."""
    key = f"{waba_id}:{recipient}:{category}:{int(timestamp) // 86400}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def message_payload(channel: Channel, *, wa_id: str, name: str, message: dict[str, Any]) -> bytes:
    """One inbound message in Meta's envelope, with the customer in ``contacts`` (§5.2)."""
    value = Value(
        messaging_product="whatsapp",
        metadata=Metadata(
            display_phone_number=channel.display_phone_number,
            phone_number_id=channel.phone_number_id,
        ),
        contacts=[
            Contact(
                profile=Profile(name=name),
                wa_id=wa_id,
                user_id=business_scoped_user_id(channel.waba_id, wa_id),
            )
        ],
        messages=[message],
    )
    envelope = Envelope(entry=[Entry(id=channel.waba_id, changes=[Change(value=value)])])
    return meta_json(envelope)
