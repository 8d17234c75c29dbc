"""A customer's message to a business: stored, the 24-hour window opened, the webhook sent.

The sandbox stands in for the customer's phone (``POST /sandbox/inbound``). The message
object is built exactly as Meta delivers it (wire-facts §5.2) and kept as the stored
payload, so the inbox and the webhook show the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from wabox.clock import Clock
from wabox.delivery.answers import answer
from wabox.delivery.customer_files import CustomerFiles, UrlFor
from wabox.delivery.message_rules import new_wamid
from wabox.delivery.window import WINDOW
from wabox.errors import InvalidParameter, MissingParameter
from wabox.identities import (
    business_scoped_user_id,
    identity,
    is_bsuid,
    is_parent,
    is_username,
    phone_of,
    username_user_id,
)
from wabox.media.urls import ATTACHMENTS_PATH, signed_query
from wabox.schema.inbound import INBOUND_TYPES as MESSAGE_FIELDS
from wabox.schema.inbound import Inbound, InboundAccepted, InboundMedia
from wabox.schema.sandbox import Channel
from wabox.store.conversations import customer_by_username, known_customer, record_inbound
from wabox.store.database import Database
from wabox.store.messages import sent_message
from wabox.webhooks.payloads import message_payload

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
ANSWERS = ("interactive", "button")  # answers to a business message (delivery/answers.py)


def without_nulls(value: Any) -> Any:
    """Meta leaves absent fields out; request structs keep them as None."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def kind_of(inbound: Inbound) -> str:
    """``type``, or else the one content field given (text when none is)."""
    if inbound.type is not None:
        return inbound.type
    given = [name for name in MESSAGE_FIELDS if getattr(inbound, name) is not None]
    if len(given) > 1:
        raise InvalidParameter(
            f"Param type is required when more than one of {', '.join(given)} is given."
        )
    return given[0] if given else "text"


async def customer_of(
    database: Database, channel: Channel, inbound: Inbound
) -> tuple[str, str | None]:
    """The customer's key (its phone number, or its BSUID when it shares none) and the
    username it writes with (Meta for Developers, "Business-scoped user IDs": a customer
    with a username may reach a business with no phone number in the webhook)."""
    username = None
    if inbound.username is not None:
        username = inbound.username.removeprefix("@")
        if not is_username(username):
            raise InvalidParameter(
                f"Param username must follow WhatsApp's rules for usernames: 3 to 35 of "
                f'a-z, 0-9, "." and "_", at least one letter, no "." first, last or twice '
                f'in a row, not starting with "www" - got "{inbound.username}".'
            )
    user_id = inbound.user_id
    if inbound.from_ is not None:
        derived = business_scoped_user_id(channel.waba_id, inbound.from_)
        if user_id is not None and user_id != derived:
            raise InvalidParameter(
                f"Param user_id must be {derived}, the BSUID of {inbound.from_} for this "
                f'business - got "{user_id}". (wabox derives a customer\'s BSUID from its '
                f"phone number; leave from out for a customer who shares no number.)"
            )
        return inbound.from_, username
    if user_id is not None:
        if not is_bsuid(user_id) or is_parent(user_id):
            raise InvalidParameter(
                f"Param user_id must be a business-scoped user ID: a two-letter country "
                f'code, a period and up to 128 letters and digits - got "{user_id}".'
            )
        if phone_of(channel.waba_id, user_id) is not None:
            raise InvalidParameter(
                f"Param user_id {user_id} is the BSUID of a customer with a phone number "
                f"here: give its number as from. (wabox's own rule.)"
            )
        return user_id, username
    if username is None:
        raise MissingParameter(
            "The parameter from is required, or username (or user_id) for a customer "
            "who writes by username and shares no phone number."
        )
    known = await customer_by_username(database, channel.phone_number_id, username)
    return known or username_user_id(channel.waba_id, username), username


async def message_object(
    database: Database,
    channel: Channel,
    inbound: Inbound,
    customer: str,
    kind: str,
    wamid: str,
    now: float,
    files: CustomerFiles,
    url_for: UrlFor,
) -> tuple[dict[str, Any], str | None]:
    """The ``messages[]`` member, and the media ID of a media message."""
    body = getattr(inbound, kind)
    media_id = None
    if kind in ANSWERS and body is not None:
        sent = None
        if inbound.context is not None:
            sent = await sent_message(database, channel.phone_number_id, inbound.context.id)
        content = answer(inbound, customer, kind, sent)
    elif kind in MEDIA_KINDS:
        spec = body if body is not None else InboundMedia()
        content, media_id = await files.keep(channel, kind, spec, now, url_for)
    elif body is None:
        raise MissingParameter(f"The parameter {kind} is required for type {kind}.")
    else:
        content = without_nulls(msgspec.to_builtins(body))
    who = identity(channel.waba_id, customer, channel.settings.parent_user_ids)
    message: dict[str, Any] = {}
    if who.wa_id is not None:
        message["from"] = who.wa_id
    message["from_user_id"] = who.user_id
    if who.parent_user_id is not None:
        message["from_parent_user_id"] = who.parent_user_id
    message |= {
        "id": wamid,
        "timestamp": str(int(now)),
        "type": kind,
        kind: content,
    }
    if inbound.context is not None:
        message["context"] = {"from": channel.display_phone_number, "id": inbound.context.id}
    return message, media_id


async def receive(
    database: Database,
    channel: Channel,
    inbound: Inbound,
    now: float,
    files: CustomerFiles,
    url_for: UrlFor,
) -> InboundAccepted:
    customer, username = await customer_of(database, channel, inbound)
    wamid = new_wamid(customer)
    kind = kind_of(inbound)
    message, media_id = await message_object(
        database, channel, inbound, customer, kind, wamid, now, files, url_for
    )
    known_name = known_username = None
    if inbound.name is None or username is None:  # what it last wrote with
        known_name, known_username = await known_customer(
            database, channel.phone_number_id, customer
        ) or (None, None)
    username = username or known_username
    name = inbound.name or known_name or username or f"Customer {customer[-4:]}"
    webhook = None
    if channel.settings.webhook is not None:
        webhook = message_payload(
            channel,
            customer=customer,
            name=name,
            username=None if username is None else f"@{username}",
            message=message,
        )
    await record_inbound(
        database,
        channel_id=channel.phone_number_id,
        wamid=wamid,
        wa_id=customer,
        name=name,
        username=username,
        type=kind,
        message=msgspec.json.encode(message),
        webhook=webhook,
        now=now,
        window=WINDOW,
    )
    return InboundAccepted(id=wamid, window_expires_at=now + WINDOW, media_id=media_id)


class Customers:
    """The customer's side, shared by the admin API and the inbox's composer."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        files: CustomerFiles,
        url_secret: bytes,
        on_webhooks: Callable[[], None],
    ) -> None:
        self._database = database
        self._clock = clock
        self._files = files
        self._url_secret = url_secret
        self._on_webhooks = on_webhooks

    async def receive(self, channel: Channel, inbound: Inbound, base_url: str) -> InboundAccepted:
        """A customer sends the channel a message. Media URLs in the webhook name
        ``base_url``, the host the request came to, as ``GET /{media_id}`` does."""
        base = base_url.rstrip("/")

        def url_for(media_id: str, expires_at: float) -> str:
            now = self._clock.now()
            query = signed_query(self._url_secret, media_id, expires_at - now, now)
            return f"{base}{ATTACHMENTS_PATH}?{query}"

        accepted = await receive(
            self._database, channel, inbound, self._clock.now(), self._files, url_for
        )
        if channel.settings.webhook is not None:
            self._on_webhooks()
        return accepted
