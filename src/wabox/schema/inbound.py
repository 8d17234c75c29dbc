"""What a customer sends to a business through ``POST /sandbox/inbound`` (wire-facts §5.2)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from wabox.schema.messages import Contact

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


class InboundMedia(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The customer's file: one of wabox's samples (``GET /sandbox/samples``), or base64
    ``data`` with its ``mime_type``; with neither, the kind's default sample.

    ``caption`` for image, video and document; ``filename`` for document; ``voice`` for
    audio (a voice note: OGG/OPUS, mono).
    """

    sample: Annotated[str, Meta(max_length=64)] | None = None
    data: str | None = None
    mime_type: Annotated[str, Meta(max_length=255)] | None = None
    caption: Annotated[str, Meta(max_length=1024)] | None = None
    filename: Annotated[str, Meta(min_length=1, max_length=240)] | None = None
    voice: bool | None = None


class InboundButtonReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A tap on a reply button: its ``id``; the title is the button's own."""

    id: Annotated[str, Meta(min_length=1, max_length=256)]
    title: Annotated[str, Meta(min_length=1, max_length=20)] | None = None


class InboundListReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A row picked from a list: its ``id``; title and description are the row's own."""

    id: Annotated[str, Meta(min_length=1, max_length=200)]
    title: Annotated[str, Meta(min_length=1, max_length=24)] | None = None
    description: Annotated[str, Meta(max_length=72)] | None = None


class InboundFlowReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A completed Flow: ``response_json`` is the JSON object the Flow returned."""

    response_json: Annotated[str, Meta(min_length=2, max_length=65536)]
    body: Annotated[str, Meta(min_length=1, max_length=1024)] = "Sent"
    name: Annotated[str, Meta(min_length=1, max_length=64)] = "flow"


class InboundInteractive(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """What the customer answered to an interactive message (``context`` names it)."""

    type: Literal["button_reply", "list_reply", "nfm_reply"]
    button_reply: InboundButtonReply | None = None
    list_reply: InboundListReply | None = None
    nfm_reply: InboundFlowReply | None = None


class InboundButton(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A tap on a template's quick-reply button: its text, and the payload the business
    gave it when sending (its text when none)."""

    text: Annotated[str, Meta(min_length=1, max_length=25)]
    payload: Annotated[str, Meta(max_length=1000)] | None = None


class InboundContext(msgspec.Struct, forbid_unknown_fields=True):
    """A reply: the wamid of the business message the customer quotes."""

    id: Annotated[str, Meta(min_length=1, max_length=128)]


InboundType = Literal[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "button",
]
INBOUND_TYPES: tuple[str, ...] = get_args(InboundType)


class Inbound(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One customer message; ``channel`` defaults to the default channel, ``type`` to the
    one content field given.

    ``from`` is the customer's phone number. A customer who writes by ``username`` may
    share none: leave ``from`` out, and wabox names it by a BSUID of its own (or the
    ``user_id`` given) until it writes again with that username.
    """

    from_: WaId | None = msgspec.field(name="from", default=None)
    username: Annotated[str, Meta(min_length=1, max_length=36)] | None = None
    user_id: Annotated[str, Meta(min_length=4, max_length=131)] | None = None
    channel: Annotated[str, Meta(pattern=r"^[0-9]{5,20}$")] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    type: InboundType | None = None
    text: InboundText | None = None
    image: InboundMedia | None = None
    video: InboundMedia | None = None
    audio: InboundMedia | None = None
    document: InboundMedia | None = None
    sticker: InboundMedia | None = None
    location: InboundLocation | None = None
    contacts: Annotated[list[Contact], Meta(min_length=1, max_length=257)] | None = None
    reaction: InboundReaction | None = None
    interactive: InboundInteractive | None = None
    button: InboundButton | None = None
    context: InboundContext | None = None


class InboundAccepted(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The new wamid; ``media_id`` for media, retrievable by the business for 7 days."""

    id: str
    window_expires_at: float
    media_id: str | None = None


class SampleFile(msgspec.Struct, kw_only=True):
    name: str
    mime_type: str
    kind: str


class SampleList(msgspec.Struct):
    """The real files a customer can send without bringing their own (``sample``)."""

    samples: list[SampleFile]


class Conversation(msgspec.Struct, kw_only=True):
    """``wa_id``: the customer's phone number, or its BSUID when it wrote by username with
    no phone number shared."""

    channel: str
    wa_id: str
    name: str | None
    username: str | None = None
    window: Literal["open", "closed"]
    window_expires_at: float
    last_inbound_at: float
    unread: int = 0  # the customer's messages the business has not marked read
    # The business's typing indicator: shown since, until then or its next message.
    typing_since: float | None = None
    typing_until: float | None = None


class ConversationList(msgspec.Struct):
    conversations: list[Conversation]
