"""The accept path: the rules a decoded message must pass, then its durable insert.

The schema (``wabox.schema.messages``) checks shapes; this module checks what needs the
channel or the store: the recipient, media ownership, "exactly one of id and link", and the
per-type requirements of interactive messages. Where Meta does not document its behaviour
we are strict, and the error details say so.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

import msgspec

from wabox.delivery.lifecycle import CHECK_LEASE, Lifecycle
from wabox.delivery.templates import check_sendable, render
from wabox.delivery.throughput import Throughput
from wabox.delivery.window import pricing, reengagement_error, window_is_open
from wabox.errors import InvalidParameter, MissingParameter, RecipientIsSender
from wabox.schema.messages import (
    AnyMessage,
    AudioMessage,
    DocumentMessage,
    ImageMessage,
    InteractiveMessage,
    InteractiveObject,
    MediaObject,
    SendResponse,
    SentContact,
    SentMessage,
    StickerMessage,
    TemplateMessage,
    VideoMessage,
)
from wabox.schema.sandbox import Channel
from wabox.store import messages as message_rows
from wabox.store.conversations import window_expires_at
from wabox.store.database import Database
from wabox.store.links import MediaOutcomeRow
from wabox.store.media import media_is_live
from wabox.store.templates import find_template

_PHONE_NOISE = str.maketrans("", "", "+-() ")
UNDOCUMENTED = "Meta does not document its behaviour here; wabox is strict."


def normalise_recipient(to: str) -> str:
    """The wa_id for ``to``: drop ``+ - ( )`` and spaces; what is left must be 5–15 digits.

    Meta prepends the business number's country code to numbers without ``+``; wabox does
    not guess, since nearly every client already sends the full international number.
    """
    digits = to.translate(_PHONE_NOISE)
    if not (digits.isascii() and digits.isdigit()) or not 5 <= len(digits) <= 15:
        raise InvalidParameter(
            f"Param to must be a phone number in international format (5 to 15 digits, "
            f'optionally with + - ( ) and spaces) - got "{to}". {UNDOCUMENTED}'
        )
    return digits


def new_wamid(wa_id: str) -> str:
    """A wamid shaped like Meta's: base64 of the recipient and a 128-bit message id.

    The id starts with the time in milliseconds, then 80 random bits: consecutive wamids
    share a long prefix, so inserts into the unique index land on the same few pages
    instead of a random one each (measured: twice the insert cost when fully random).
    """
    number = wa_id.encode()
    millis = time.time_ns() // 1_000_000
    message_id = (millis.to_bytes(6, "big") + os.urandom(10)).hex().upper().encode()
    raw = (
        b"\x1c\x18"
        + bytes([len(number)])
        + number
        + b"\x15\x02\x00\x11\x18"
        + bytes([len(message_id)])
        + message_id
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode()


def media_refs(message: AnyMessage) -> Iterator[tuple[str, MediaObject]]:
    """Every media object in the message, with its Graph-style parameter path."""
    match message:
        case ImageMessage():
            yield "image", message.image
        case VideoMessage():
            yield "video", message.video
        case DocumentMessage():
            yield "document", message.document
        case AudioMessage():
            yield "audio", message.audio
        case StickerMessage():
            yield "sticker", message.sticker
        case InteractiveMessage():
            header = message.interactive.header
            if header is not None:
                for kind in ("image", "video", "document"):
                    ref = getattr(header, kind)
                    if ref is not None:
                        yield f"interactive['header']['{kind}']", ref
        case TemplateMessage():
            for c, component in enumerate(message.template.components or ()):
                for p, parameter in enumerate(component.parameters or ()):
                    for kind in ("image", "video", "document"):
                        ref = getattr(parameter, kind)
                        if ref is not None:
                            path = f"template['components'][{c}]['parameters'][{p}]['{kind}']"
                            yield path, ref
        case _:
            return


def check_media_ref(path: str, ref: MediaObject) -> str | None:
    """The seed's rule: exactly one of ``id`` and ``link``; returns the id to look up."""
    if ref.id is not None and ref.link is not None:
        raise InvalidParameter(
            f"Param {path} must contain either 'id' or 'link', not both. {UNDOCUMENTED}"
        )
    if ref.id is None and ref.link is None:
        raise MissingParameter(f"The parameter {path}['id'] or {path}['link'] is required.")
    if ref.link is not None:
        parts = urlsplit(ref.link)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidParameter(
                f"Param {path}['link'] is not a valid URI. Only absolute http and https links are "
                "accepted."
            )
        return None
    assert ref.id is not None
    if not (ref.id.isascii() and ref.id.isdigit()):
        raise unknown_media(path)
    return ref.id


def unknown_media(path: str) -> InvalidParameter:
    return InvalidParameter(
        f"Param {path}['id'] is not a valid whatsapp business account media attachment ID"
    )


def check_interactive(interactive: InteractiveObject) -> None:
    """Per-type requirements Meta documents for interactive messages (wire-facts §1.5)."""
    kind, action = interactive.type, interactive.action
    needs_body = (
        "button",
        "list",
        "cta_url",
        "flow",
        "location_request_message",
        "address_message",
    )
    if kind in needs_body and interactive.body is None:
        raise MissingParameter(f"The parameter interactive['body'] is required for type {kind}.")
    header = interactive.header
    if header is not None:
        if header.type != "text" and kind == "list":
            raise InvalidParameter(
                "Param interactive['header']['type'] must be text for list messages."
            )
        if getattr(header, header.type) is None:
            raise MissingParameter(
                f"The parameter interactive['header']['{header.type}'] is required."
            )
    if kind == "button" and action.buttons is None:
        raise MissingParameter("The parameter interactive['action']['buttons'] is required.")
    if kind == "button" and action.buttons is not None:
        ids = [button.reply.id for button in action.buttons]
        if len(set(ids)) != len(ids):
            raise InvalidParameter("Param interactive['action']['buttons'] must have unique ids.")
    if kind == "list":
        if action.button is None:
            raise MissingParameter("The parameter interactive['action']['button'] is required.")
        if action.sections is None:
            raise MissingParameter("The parameter interactive['action']['sections'] is required.")
        rows = [row for section in action.sections for row in section.rows or ()]
        if not rows:
            raise MissingParameter(
                "The parameter interactive['action']['sections'][0]['rows'] is required."
            )
        if len(rows) > 10:
            raise InvalidParameter(
                "Param interactive['action']['sections'] may hold at most 10 rows in all - "
                f"got {len(rows)}."
            )
        if len(action.sections) > 1 and any(section.title is None for section in action.sections):
            raise MissingParameter(
                "The parameter interactive['action']['sections'][]['title'] is required when there "
                "is more than one section."
            )
    expected_name = {
        "cta_url": "cta_url",
        "flow": "flow",
        "location_request_message": "send_location",
        "catalog_message": "catalog_message",
        "address_message": "address_message",
    }.get(kind)
    if expected_name is not None and action.name != expected_name:
        raise InvalidParameter(
            f"Param interactive['action']['name'] must be \"{expected_name}\" for type {kind} - "
            f'got "{action.name}".'
        )
    if kind in ("cta_url", "flow") and not action.parameters:
        raise MissingParameter("The parameter interactive['action']['parameters'] is required.")
    if kind in ("product", "product_list") and action.catalog_id is None:
        raise MissingParameter("The parameter interactive['action']['catalog_id'] is required.")
    if kind == "product" and action.product_retailer_id is None:
        raise MissingParameter(
            "The parameter interactive['action']['product_retailer_id'] is required."
        )


class Accepted(NamedTuple):
    response: SendResponse
    checking: bool  # its media waits in the ``check`` step: the caller starts the check


async def accept_message(
    database: Database,
    channel: Channel,
    message: AnyMessage,
    raw_body: bytes,
    *,
    now: float,
    media: Sequence[MediaOutcomeRow] | None = (),
    lifecycle: Lifecycle | None = None,
    throughput: Throughput | None = None,
) -> Accepted:
    """Validate against the channel, commit the message, and answer like Meta (§1.4).

    ``media``: outcomes already known (cache hits), committed with the message; None when
    its media must be checked first, so the message waits in the ``check`` step. Otherwise
    the ``lifecycle``'s first step is committed with it. A non-template message to a
    closed customer service window is accepted and fails at once with 131047, its media
    never fetched (wire-facts §6). A message that passes every check counts against the
    ``throughput`` limits, which may still refuse it (130429, 131056).
    """
    wa_id = normalise_recipient(message.to)
    if wa_id == channel.display_phone_number:
        raise RecipientIsSender("Sender and recipient phone number is the same.")
    for path, ref in media_refs(message):
        media_id = check_media_ref(path, ref)
        if media_id is not None and not await media_is_live(
            database, channel.phone_number_id, media_id, now
        ):
            raise unknown_media(path)
    if isinstance(message, InteractiveMessage):
        check_interactive(message.interactive)
    template_category = rendered = None
    if isinstance(message, TemplateMessage):
        name, language = message.template.name, message.template.language.code
        template = check_sendable(
            await find_template(database, channel.phone_number_id, name, language),
            name,
            language,
        )
        rendered = msgspec.json.encode(render(template, message.template)).decode()
        template_category = template.category.lower()
    if throughput is not None:
        await throughput.admit(channel, wa_id, now)

    wamid = new_wamid(wa_id)
    message_type = _type_of(message)
    # The window matters for templates (pricing) and, when enforced, for everything else.
    window_open = (template_category is not None or channel.settings.enforce_window) and (
        window_is_open(await window_expires_at(database, channel.phone_number_id, wa_id, now), now)
    )
    category, pricing_type = pricing(template_category, window_open)
    error = None
    if not window_open and template_category is None and channel.settings.enforce_window:
        error, media = reengagement_error(), ()
    first_step = None
    if media is not None and lifecycle is not None:
        first_step = lifecycle.first_step(
            channel,
            wamid=wamid,
            recipient=wa_id,
            message_type=message_type,
            biz_opaque_callback_data=message.biz_opaque_callback_data,
            category=category,
            pricing_type=pricing_type,
            now=now,
            error=error,
        )
    await message_rows.insert_accepted(
        database,
        wamid=wamid,
        channel_id=channel.phone_number_id,
        recipient=wa_id,
        type=message_type,
        payload=raw_body,
        biz_opaque_callback_data=message.biz_opaque_callback_data,
        now=now,
        media=media or (),
        next_step="sent" if media is not None else "check",
        due_at=now if media is not None else now + CHECK_LEASE,
        first_step=first_step,
        category=category,
        pricing_type=pricing_type,
        rendered=rendered,
    )
    if first_step is not None and lifecycle is not None:
        lifecycle.written(first_step)
    response = SendResponse(
        messaging_product="whatsapp",
        contacts=[SentContact(input=message.to, wa_id=wa_id)],
        messages=[SentMessage(id=wamid)],
    )
    return Accepted(response, checking=media is None)


def _type_of(message: AnyMessage) -> str:
    return str(type(message).__struct_config__.tag)
