"""The body of ``POST /messages``: one message union tagged on ``type`` (wire-facts §1).

Request structs reject unknown keys: the real API answers "Unexpected key" for them, and a
sandbox that silently drops a misspelt field would hide the bug it exists to show. Optional
fields accept ``null`` as "absent", as the Graph API does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

# wire-facts §1.3 / §1.5 and Meta's message pages.
Caption = Annotated[str, Meta(max_length=1024)]
TextBody = Annotated[str, Meta(min_length=1, max_length=4096)]
Filename = Annotated[str, Meta(min_length=1, max_length=240)]
CallbackData = Annotated[str, Meta(max_length=512)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
ButtonTitle = Annotated[str, Meta(min_length=1, max_length=20)]
RowTitle = Annotated[str, Meta(min_length=1, max_length=24)]
RowDescription = Annotated[str, Meta(max_length=72)]
Identifier = Annotated[str, Meta(min_length=1, max_length=256)]
InteractiveBody = Annotated[str, Meta(min_length=1, max_length=1024)]
InteractiveFooter = Annotated[str, Meta(min_length=1, max_length=60)]
HeaderText = Annotated[str, Meta(min_length=1, max_length=60)]


class RequestStruct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every request body part."""


class Context(RequestStruct, kw_only=True):
    """Makes the message a reply to an earlier one."""

    message_id: Annotated[str, Meta(min_length=1)]


class MediaObject(RequestStruct, kw_only=True):
    """Exactly one of ``id`` (uploaded media) and ``link`` (hosted media) is required."""

    id: str | None = None
    link: str | None = None


class CaptionedMedia(MediaObject, kw_only=True):
    caption: Caption | None = None


class ImageObject(CaptionedMedia, kw_only=True):
    """JPEG or PNG, 8-bit RGB/RGBA, at most 5 MB."""


class VideoObject(CaptionedMedia, kw_only=True):
    """MP4 or 3GPP with H.264 video and AAC audio, at most 16 MB."""


class DocumentObject(CaptionedMedia, kw_only=True):
    """Any allowed document type, at most 100 MB; the filename's extension drives the icon."""

    filename: Filename | None = None


class AudioObject(MediaObject, kw_only=True):
    """AAC, AMR, MP3, M4A or OGG/OPUS; ``voice`` marks a voice note (OGG/OPUS only)."""

    voice: bool | None = None


class StickerObject(MediaObject, kw_only=True):
    """WebP, 512×512; static ≤ 100 KB, animated ≤ 500 KB."""


class TextObject(RequestStruct, kw_only=True):
    body: TextBody
    preview_url: bool | None = None


class ReactionObject(RequestStruct, kw_only=True):
    """An empty emoji removes the reaction."""

    message_id: Annotated[str, Meta(min_length=1)]
    emoji: Annotated[str, Meta(max_length=16)]


class LocationObject(RequestStruct, kw_only=True):
    latitude: Latitude
    longitude: Longitude
    name: str | None = None
    address: str | None = None


class ContactName(RequestStruct, kw_only=True):
    formatted_name: Annotated[str, Meta(min_length=1)]
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    prefix: str | None = None


class ContactPhone(RequestStruct, kw_only=True):
    phone: str | None = None
    type: str | None = None
    wa_id: str | None = None


class ContactEmail(RequestStruct, kw_only=True):
    email: str | None = None
    type: str | None = None


class ContactAddress(RequestStruct, kw_only=True):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    type: str | None = None


class ContactOrg(RequestStruct, kw_only=True):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class ContactUrl(RequestStruct, kw_only=True):
    url: str | None = None
    type: str | None = None


class Contact(RequestStruct, kw_only=True):
    name: ContactName
    phones: list[ContactPhone] | None = None
    emails: list[ContactEmail] | None = None
    addresses: list[ContactAddress] | None = None
    org: ContactOrg | None = None
    urls: list[ContactUrl] | None = None
    birthday: str | None = None


class InteractiveText(RequestStruct, kw_only=True):
    text: InteractiveBody


class InteractiveFooterObject(RequestStruct, kw_only=True):
    text: InteractiveFooter


class InteractiveHeader(RequestStruct, kw_only=True):
    type: Literal["text", "image", "video", "document"]
    text: HeaderText | None = None
    image: MediaObject | None = None
    video: MediaObject | None = None
    document: DocumentObject | None = None


class ReplyButtonObject(RequestStruct, kw_only=True):
    id: Identifier
    title: ButtonTitle


class ReplyButton(RequestStruct, kw_only=True):
    type: Literal["reply"]
    reply: ReplyButtonObject


class ListRow(RequestStruct, kw_only=True):
    id: Identifier
    title: RowTitle
    description: RowDescription | None = None


class ListSection(RequestStruct, kw_only=True):
    title: RowTitle | None = None
    rows: Annotated[list[ListRow], Meta(min_length=1, max_length=10)] | None = None
    product_items: list[dict[str, Any]] | None = None


class InteractiveAction(RequestStruct, kw_only=True):
    """The union of the ``action`` shapes; which fields a type needs is checked on accept."""

    buttons: Annotated[list[ReplyButton], Meta(min_length=1, max_length=3)] | None = None
    button: ButtonTitle | None = None
    sections: Annotated[list[ListSection], Meta(min_length=1, max_length=10)] | None = None
    name: str | None = None
    parameters: dict[str, Any] | None = None
    catalog_id: str | None = None
    product_retailer_id: str | None = None


class InteractiveObject(RequestStruct, kw_only=True):
    type: Literal[
        "button",
        "list",
        "cta_url",
        "flow",
        "location_request_message",
        "product",
        "product_list",
        "catalog_message",
        "address_message",
    ]
    header: InteractiveHeader | None = None
    body: InteractiveText | None = None
    footer: InteractiveFooterObject | None = None
    action: InteractiveAction


class TemplateLanguage(RequestStruct, kw_only=True):
    code: Annotated[str, Meta(min_length=2)]
    policy: Literal["deterministic"] | None = None


class TemplateParameter(RequestStruct, kw_only=True):
    """One ``{{n}}`` value, or the header's media; the shape follows ``type``."""

    type: Literal[
        "text",
        "currency",
        "date_time",
        "image",
        "document",
        "video",
        "location",
        "payload",
        "action",
        "coupon_code",
    ]
    parameter_name: str | None = None
    text: str | None = None
    currency: dict[str, Any] | None = None
    date_time: dict[str, Any] | None = None
    image: MediaObject | None = None
    document: DocumentObject | None = None
    video: MediaObject | None = None
    location: LocationObject | None = None
    payload: str | None = None
    action: dict[str, Any] | None = None
    coupon_code: str | None = None


class TemplateComponent(RequestStruct, kw_only=True):
    """``type`` in either case: Meta's examples use lower case, pywa sends upper case."""

    type: Literal[
        "header",
        "body",
        "footer",
        "button",
        "buttons",
        "carousel",
        "limited_time_offer",
        "HEADER",
        "BODY",
        "FOOTER",
        "BUTTON",
        "BUTTONS",
        "CAROUSEL",
        "LIMITED_TIME_OFFER",
    ]
    sub_type: str | None = None
    index: int | str | None = None
    parameters: list[TemplateParameter] | None = None
    cards: list[dict[str, Any]] | None = None


class TemplateObject(RequestStruct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=512)]
    language: TemplateLanguage
    components: list[TemplateComponent] | None = None


# A business-scoped user ID: ISO country, ".", up to 128 alphanumerics; a parent BSUID has
# "ENT." after the country (Meta for Developers, "Business-scoped user IDs").
BSUID_PATTERN = r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$"


class OutboundMessage(RequestStruct, tag_field="type", kw_only=True):
    """Fields every outbound message shares (Meta's messages reference).

    ``to`` is the customer's phone number; ``recipient`` its business-scoped user ID (or
    parent BSUID), for a customer who shares no number; ``to`` wins when both are given.
    """

    messaging_product: Literal["whatsapp"]
    recipient_type: Literal["individual"] = "individual"
    to: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    recipient: Annotated[str, Meta(min_length=1, max_length=160)] | None = None
    context: Context | None = None
    biz_opaque_callback_data: CallbackData | None = None
    # Meta's identity change check: the message fails if the customer's identity key
    # changed. wabox simulates no identity changes, so it is accepted and not compared.
    recipient_identity_key_hash: Annotated[str, Meta(max_length=256)] | None = None


class ImageMessage(OutboundMessage, tag="image", kw_only=True):
    image: ImageObject


class VideoMessage(OutboundMessage, tag="video", kw_only=True):
    video: VideoObject


class DocumentMessage(OutboundMessage, tag="document", kw_only=True):
    document: DocumentObject


class AudioMessage(OutboundMessage, tag="audio", kw_only=True):
    audio: AudioObject


class StickerMessage(OutboundMessage, tag="sticker", kw_only=True):
    sticker: StickerObject


class TextMessage(OutboundMessage, tag="text", kw_only=True):
    text: TextObject


class ReactionMessage(OutboundMessage, tag="reaction", kw_only=True):
    reaction: ReactionObject


class LocationMessage(OutboundMessage, tag="location", kw_only=True):
    location: LocationObject


class ContactsMessage(OutboundMessage, tag="contacts", kw_only=True):
    contacts: Annotated[list[Contact], Meta(min_length=1)]


class InteractiveMessage(OutboundMessage, tag="interactive", kw_only=True):
    interactive: InteractiveObject


class TemplateMessage(OutboundMessage, tag="template", kw_only=True):
    template: TemplateObject


AnyMessage = (
    ImageMessage
    | VideoMessage
    | DocumentMessage
    | AudioMessage
    | StickerMessage
    | TextMessage
    | ReactionMessage
    | LocationMessage
    | ContactsMessage
    | InteractiveMessage
    | TemplateMessage
)

MEDIA_TYPES = ("audio", "document", "image", "sticker", "video")
MESSAGE_TYPES = (
    *MEDIA_TYPES,
    "contacts",
    "interactive",
    "location",
    "reaction",
    "template",
    "text",
)


class TypingIndicator(RequestStruct, kw_only=True):
    type: Literal["text"]


class MarkRead(RequestStruct, kw_only=True):
    """``{"status": "read", "message_id": …}`` marks an inbound message read."""

    messaging_product: Literal["whatsapp"]
    status: Literal["read"]
    message_id: Annotated[str, Meta(min_length=1)]
    typing_indicator: TypingIndicator | None = None


class SentContact(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the send was addressed to: ``wa_id`` for a phone number, ``user_id`` for a
    BSUID (Meta for Developers, "Business-scoped user IDs": never both)."""

    input: str
    wa_id: str | None = None
    user_id: str | None = None


class SentMessage(msgspec.Struct):
    id: str


class SendResponse(msgspec.Struct):
    """The synchronous "accepted" answer: Meta answers a send once it is accepted."""

    messaging_product: str
    contacts: list[SentContact]
    messages: list[SentMessage]


class SuccessResponse(msgspec.Struct):
    success: bool = True


message_decoder: msgspec.json.Decoder[AnyMessage] = msgspec.json.Decoder(AnyMessage)
mark_read_decoder = msgspec.json.Decoder(MarkRead)
