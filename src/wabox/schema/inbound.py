"""What a customer sends to a business through ``POST /sandbox/inbound`` (wire-facts §5.2)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

WaId = Annotated[str, Meta(pattern=r"^[0-9]{5,15}$")]


class InboundText(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, Meta(min_length=1, max_length=4096)]


class InboundLocation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    latitude: Annotated[float, Meta(ge=-90, le=90)]
    longitude: Annotated[float, Meta(ge=-180, le=180)]
    name: Annotated[str, Meta(max_length=1000)] | None = None
    address: Annotated[str, Meta(max_length=1000)] | None = None


class InboundReaction(msgspec.Struct, forbid_unknown_fields=True):
    message_id: Annotated[str, Meta(min_length=1, max_length=128)]
    emoji: Annotated[str, Meta(min_length=1, max_length=16)]


class InboundContext(msgspec.Struct, forbid_unknown_fields=True):
    """A reply: the wamid of the business message the customer quotes."""

    id: Annotated[str, Meta(min_length=1, max_length=128)]


class Inbound(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One customer message; ``channel`` defaults to the default channel."""

    from_: WaId = msgspec.field(name="from")
    channel: Annotated[str, Meta(pattern=r"^[0-9]{5,20}$")] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    type: Literal["text", "location", "reaction"] = "text"
    text: InboundText | None = None
    location: InboundLocation | None = None
    reaction: InboundReaction | None = None
    context: InboundContext | None = None


class InboundAccepted(msgspec.Struct, kw_only=True):
    id: str
    window_expires_at: float


class Conversation(msgspec.Struct, kw_only=True):
    channel: str
    wa_id: str
    name: str | None
    window: Literal["open", "closed"]
    window_expires_at: float
    last_inbound_at: float


class ConversationList(msgspec.Struct):
    conversations: list[Conversation]
