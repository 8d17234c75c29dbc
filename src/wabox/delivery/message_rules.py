"""The rules a decoded message must pass that need neither the store nor the channel's state.

The schema (``wabox.schema.messages``) checks shapes; these check what Meta checks next:
the recipient, "exactly one of id and link", and the per-type requirements of interactive
messages. Where Meta does not document its behaviour wabox is strict, and the error
details say so.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from typing import NamedTuple

from wabox.errors import InvalidParameter, MissingParameter
from wabox.links.fetcher import is_web_link
from wabox.schema.messages import (
    AnyMessage,
    AudioMessage,
    DocumentMessage,
    ImageMessage,
    InteractiveMessage,
    InteractiveObject,
    MediaObject,
    StickerMessage,
    TemplateMessage,
    VideoMessage,
)

_PHONE_NOISE = str.maketrans("", "", "+-() ")
UNDOCUMENTED = "Meta does not document its behaviour here; wabox is strict."
HEADER_KINDS = ("image", "video", "document")  # media a template or interactive header takes


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
    number = wa_id.encode()[:32]  # a BSUID may be 131 characters; the column holds 128
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


class MediaRef(NamedTuple):
    """One media object of a message: where it is (Graph-style parameter path), what it is
    sent as, and whether it is a voice note (audio's ``voice``, which adds OPUS rules)."""

    path: str
    kind: str
    ref: MediaObject
    voice: bool = False


def media_refs(message: AnyMessage) -> Iterator[MediaRef]:
    """Every media object in the message."""
    match message:
        case ImageMessage():
            yield MediaRef("image", "image", message.image)
        case VideoMessage():
            yield MediaRef("video", "video", message.video)
        case DocumentMessage():
            yield MediaRef("document", "document", message.document)
        case AudioMessage():
            yield MediaRef("audio", "audio", message.audio, bool(message.audio.voice))
        case StickerMessage():
            yield MediaRef("sticker", "sticker", message.sticker)
        case InteractiveMessage():
            header = message.interactive.header
            if header is not None:
                for kind in HEADER_KINDS:
                    ref = getattr(header, kind)
                    if ref is not None:
                        yield MediaRef(f"interactive['header']['{kind}']", kind, ref)
        case TemplateMessage():
            for c, component in enumerate(message.template.components or ()):
                for p, parameter in enumerate(component.parameters or ()):
                    for kind in HEADER_KINDS:
                        ref = getattr(parameter, kind)
                        if ref is not None:
                            path = f"template['components'][{c}]['parameters'][{p}]['{kind}']"
                            yield MediaRef(path, kind, ref)
        case _:
            return


def check_media_ref(media: MediaRef) -> str | None:
    """The seed's rule: exactly one of ``id`` and ``link``; returns the id to look up."""
    path, ref = media.path, media.ref
    if ref.id is not None and ref.link is not None:
        raise InvalidParameter(
            f"Param {path} must contain either 'id' or 'link', not both. {UNDOCUMENTED}"
        )
    if ref.id is None and ref.link is None:
        raise MissingParameter(f"The parameter {path}['id'] or {path}['link'] is required.")
    if ref.link is not None:
        if not is_web_link(ref.link):
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
