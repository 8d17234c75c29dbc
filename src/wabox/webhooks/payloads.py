"""Status webhooks a receiver cannot tell from Meta's (wire-facts §5.1, §5.3, §4.2)."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from wabox.errors import GraphError
from wabox.identities import identity
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
    who = identity(channel.waba_id, recipient, channel.settings.parent_user_ids)
    # A failed message to a phone number names the customer by that number alone: Meta
    # documents no BSUID there ("Business-scoped user IDs", status webhooks), and real
    # failed statuses carry "contacts": [{"wa_id": ...}] (pywa issue #227, August 2026).
    failed = status == "failed"
    value = Value(
        messaging_product="whatsapp",
        metadata=Metadata(
            display_phone_number=channel.display_phone_number,
            phone_number_id=channel.phone_number_id,
        ),
        contacts=[
            Contact(wa_id=who.wa_id)
            if failed and who.wa_id is not None
            else Contact(wa_id=who.wa_id, user_id=who.user_id, parent_user_id=who.parent_user_id)
        ],
        statuses=[
            Status(
                id=wamid,
                status=status,  # type: ignore[arg-type]
                timestamp=str(int(timestamp)),
                recipient_id=who.wa_id,
                recipient_user_id=None if failed and who.wa_id else who.user_id,
                recipient_parent_user_id=None if failed and who.wa_id else who.parent_user_id,
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


def message_payload(
    channel: Channel,
    *,
    customer: str,
    name: str,
    message: dict[str, Any],
    username: str | None = None,
) -> bytes:
    """One inbound message in Meta's envelope, with the customer in ``contacts`` (§5.2)."""
    who = identity(channel.waba_id, customer, channel.settings.parent_user_ids)
    value = Value(
        messaging_product="whatsapp",
        metadata=Metadata(
            display_phone_number=channel.display_phone_number,
            phone_number_id=channel.phone_number_id,
        ),
        contacts=[
            Contact(
                profile=Profile(name=name, username=username),
                wa_id=who.wa_id,
                user_id=who.user_id,
                parent_user_id=who.parent_user_id,
            )
        ],
        messages=[message],
    )
    envelope = Envelope(entry=[Entry(id=channel.waba_id, changes=[Change(value=value)])])
    return meta_json(envelope)
