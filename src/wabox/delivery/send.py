"""The one send path: a decoded message and its channel in, the accepted message out.

``Sender.send`` applies every rule that needs the channel or the store (media ownership,
templates, the window, the throughput limits), commits the message, and starts what its
media need. Meta answers a send once the message is accepted, not delivered (wire-facts
§1.4); what happens next is the lifecycle's (``delivery/lifecycle.py``).
"""

from __future__ import annotations

import msgspec

from wabox.clock import Clock
from wabox.delivery.lifecycle import CHECK_LEASE, Lifecycle
from wabox.delivery.media_checks import MediaChecks
from wabox.delivery.message_rules import (
    UNDOCUMENTED,
    check_interactive,
    check_media_ref,
    media_refs,
    new_wamid,
    normalise_recipient,
    unknown_media,
)
from wabox.delivery.templates import check_sendable, render
from wabox.delivery.throughput import Throughput
from wabox.delivery.window import pricing, reengagement_error, window_is_open
from wabox.errors import BsuidNotSupported, InvalidParameter, RecipientIsSender
from wabox.identities import is_bsuid, is_parent, phone_of
from wabox.schema.messages import (
    AnyMessage,
    InteractiveMessage,
    SendResponse,
    SentContact,
    SentMessage,
    TemplateMessage,
)
from wabox.schema.sandbox import Channel
from wabox.store import leases
from wabox.store import messages as message_rows
from wabox.store.conversations import known_customer, mark_inbound_read, window_expires_at
from wabox.store.database import Database
from wabox.store.media import media_is_live
from wabox.store.templates import find_template

TYPING_FOR = 25.0  # seconds a typing indicator shows at most (Meta: "up to 25 seconds")


class Sender:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        lifecycle: Lifecycle,
        media_checks: MediaChecks,
        throughput: Throughput | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._lifecycle = lifecycle
        self._media_checks = media_checks
        self._throughput = throughput

    async def send(self, channel: Channel, message: AnyMessage, raw_body: bytes) -> SendResponse:
        """Validate against the channel, commit the message, and answer like Meta (§1.4).

        A message whose media are all known to pass (media IDs checked before, fresh link
        cache hits) is committed with its ``sent`` step; any other waits in the ``check``
        step while its media are checked in the background. A non-template message to a
        closed customer service window is accepted and fails at once with 131047, its media
        never fetched (wire-facts §6). A message that passes every check counts against the
        throughput limits, which may still refuse it (130429, 131056).
        """
        database, now = self._database, self._clock.now()
        wa_id, contact = await self._recipient(channel, message)
        if wa_id == channel.display_phone_number:
            raise RecipientIsSender("Sender and recipient phone number is the same.")
        refs = list(media_refs(message))
        for media in refs:
            media_id = check_media_ref(media)
            if media_id is not None and not await media_is_live(
                database, channel.phone_number_id, media_id, now
            ):
                raise unknown_media(media.path)
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
            if template_category == "authentication" and contact.user_id is not None:
                raise BsuidNotSupported(
                    "Authentication templates need the customer's phone number: send them "
                    "with to, not recipient."
                )
        if self._throughput is not None:
            await self._throughput.admit(channel, wa_id, now)

        wamid = new_wamid(wa_id)
        message_type = str(type(message).__struct_config__.tag)
        # The window matters for templates (pricing) and, when enforced, for everything else.
        enforce = channel.settings.enforce_window
        window_open = (template_category is not None or enforce) and window_is_open(
            await window_expires_at(database, channel.phone_number_id, wa_id, now), now
        )
        category, pricing_type = pricing(template_category, window_open)
        error = None
        if not window_open and template_category is None and enforce:
            error = reengagement_error()
        # The one decision whether the media must be checked first: None when they must.
        settled = () if error is not None else self._media_checks.settle_now(channel, refs)
        first_step = None
        if settled is not None:
            first_step = self._lifecycle.first_step(
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
            media=settled or (),
            next_step="sent" if settled is not None else "check",
            due_at=now,
            leased_until=None if settled is not None else leases.wall() + CHECK_LEASE,
            first_step=first_step,
            category=category,
            pricing_type=pricing_type,
            rendered=rendered,
        )
        if first_step is not None:
            self._lifecycle.written(first_step)
        else:
            self._media_checks.submit(channel, wamid, refs)
        return SendResponse(
            messaging_product="whatsapp",
            contacts=[contact],
            messages=[SentMessage(id=wamid)],
        )

    async def _recipient(self, channel: Channel, message: AnyMessage) -> tuple[str, SentContact]:
        """Who the message is for: its phone number from ``to``, which wins, or else the
        customer a ``recipient`` BSUID names (Meta for Developers, "Business-scoped user
        IDs"); and the ``contacts`` member of the answer."""
        if message.to is not None:
            wa_id = normalise_recipient(message.to)
            return wa_id, SentContact(input=message.to, wa_id=wa_id)
        given = message.recipient
        if given is None:
            raise InvalidParameter("The parameter to is required.")
        if not is_bsuid(given):
            raise InvalidParameter(
                f"Param recipient must be a business-scoped user ID (BSUID): a two-letter "
                f'country code, a period and up to 128 letters and digits - got "{given}". '
                f"{UNDOCUMENTED}"
            )
        if is_parent(given) and not channel.settings.parent_user_ids:
            raise InvalidParameter(
                f"Param recipient {given} is a parent BSUID, and this business is not "
                f"enrolled for parent BSUIDs (the channel's settings.parent_user_ids). "
                f"{UNDOCUMENTED}"
            )
        customer = phone_of(channel.waba_id, given)
        if customer is None and await known_customer(
            self._database, channel.phone_number_id, given
        ):
            customer = given
        if customer is None:
            raise InvalidParameter(
                f"Param recipient must be the BSUID of a customer of this business (one "
                f'that wrote to it, or a phone number it messaged) - got "{given}". '
                f"{UNDOCUMENTED}"
            )
        return customer, SentContact(input=given, user_id=given)

    async def mark_read(self, channel: Channel, message_id: str, typing: bool = False) -> None:
        """The business read a customer's message (and every earlier one from them); with
        ``typing``, the customer sees it typing for up to 25 s or until its next message
        (Meta for Developers, WhatsApp Cloud API, "Typing indicators")."""
        if not await mark_inbound_read(
            self._database,
            channel.phone_number_id,
            message_id,
            self._clock.now(),
            typing_for=TYPING_FOR if typing else None,
        ):
            raise InvalidParameter(
                f'Param message_id must be a message this number received - got "'
                f'{message_id}". {UNDOCUMENTED}'
            )
