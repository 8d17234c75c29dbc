"""Webhook payloads, exactly as Meta sends them (wire-facts §5.1, §5.3, §4.2), and
360dialog's webhook configuration bodies (§5.7).

In payloads all ids and timestamps are strings; optional members are left out, never null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from wabox.schema.errors import WebhookError
from wabox.schema.sandbox import HeaderName


class Metadata(msgspec.Struct, kw_only=True):
    display_phone_number: str
    phone_number_id: str


class Profile(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    username: str | None = None


class Contact(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The customer: ``wa_id`` (left out when its phone number is not shared) and
    ``user_id``, the business-scoped user ID (BSUID); on inbound messages also the
    ``profile`` name and username; ``parent_user_id`` for businesses enrolled for it."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None


PricingType = Literal["regular", "free_customer_service", "free_entry_point"]


class Pricing(msgspec.Struct, kw_only=True):
    billable: bool
    pricing_model: str = "PMP"
    type: PricingType
    category: str


class ConversationOrigin(msgspec.Struct):
    type: str


class Conversation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The 24-hour conversation a status belongs to: sent by webhooks subscribed before
    v24.0 (and, since, only inside a free entry point); ``expiration_timestamp`` on ``sent``."""

    id: str
    expiration_timestamp: str | None = None
    origin: ConversationOrigin


class Status(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    status: Literal["sent", "delivered", "read", "failed", "played"]
    timestamp: str
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    recipient_parent_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: list[WebhookError] | None = None


class Value(msgspec.Struct, kw_only=True, omit_defaults=True):
    messaging_product: Literal["whatsapp"]  # no default: omit_defaults would drop it
    metadata: Metadata
    contacts: list[Contact] | None = None
    messages: list[dict[str, Any]] | None = None  # inbound, shaped per type (§5.2)
    statuses: list[Status] | None = None


class Change(msgspec.Struct, kw_only=True):
    value: Value
    field: str = "messages"


class Entry(msgspec.Struct, kw_only=True):
    id: str
    changes: list[Change]


class Envelope(msgspec.Struct, kw_only=True):
    object: str = "whatsapp_business_account"
    entry: list[Entry]


class WebhookConfigBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(pattern=r"^https?://[^\s]+$", max_length=2048)]
    headers: dict[HeaderName, Annotated[str, Meta(max_length=4096)]] = msgspec.field(
        default_factory=dict
    )


class WebhookConfigAnswer(msgspec.Struct, kw_only=True):
    url: str | None
    headers: dict[str, str]
