"""A customer's message to a business: stored, the 24-hour window opened, the webhook sent.

The sandbox stands in for the customer's phone (``POST /sandbox/inbound``). The message
object is built exactly as Meta delivers it (wire-facts §5.2) and kept as the stored
payload, so the inbox and the webhook show the same thing.
"""

from __future__ import annotations

from typing import Any

import msgspec

from wabox.api.errors import MissingParameter
from wabox.delivery.accept import new_wamid
from wabox.schema.inbound import Inbound, InboundAccepted
from wabox.schema.sandbox import Channel
from wabox.store.conversations import profile_name, record_inbound
from wabox.store.database import Database
from wabox.webhooks.payloads import message_payload

WINDOW = 24 * 3600.0  # the customer service window (wire-facts §6)


def message_object(channel: Channel, inbound: Inbound, wamid: str, now: float) -> dict[str, Any]:
    body = getattr(inbound, inbound.type)
    if body is None:
        raise MissingParameter(f"The parameter {inbound.type} is required for type {inbound.type}.")
    message: dict[str, Any] = {
        "from": inbound.from_,
        "id": wamid,
        "timestamp": str(int(now)),
        "type": inbound.type,
        inbound.type: msgspec.to_builtins(body),
    }
    if inbound.context is not None:
        message["context"] = {"from": channel.display_phone_number, "id": inbound.context.id}
    return message


async def receive(
    database: Database, channel: Channel, inbound: Inbound, now: float
) -> InboundAccepted:
    wamid = new_wamid(inbound.from_)
    message = message_object(channel, inbound, wamid, now)
    name = (
        inbound.name
        or await profile_name(database, channel.phone_number_id, inbound.from_)
        or f"Customer {inbound.from_[-4:]}"
    )
    webhook = None
    if channel.settings.webhook is not None:
        webhook = message_payload(channel, wa_id=inbound.from_, name=name, message=message)
    await record_inbound(
        database,
        channel_id=channel.phone_number_id,
        wamid=wamid,
        wa_id=inbound.from_,
        name=name,
        type=inbound.type,
        message=msgspec.json.encode(message),
        webhook=webhook,
        now=now,
        window=WINDOW,
    )
    return InboundAccepted(id=wamid, window_expires_at=now + WINDOW)
