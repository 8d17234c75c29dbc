"""Message rows, their lifecycle events, and the sandbox's read queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from wabox.schema.sandbox import MediaOutcome, MessageEvent, MessagePricing, StoredMessage
from wabox.store.lifecycle import Step, delivery_rows, event_rows
from wabox.store.tables import message_events, message_media, messages, webhook_deliveries

if TYPE_CHECKING:
    from wabox.store.database import Database
    from wabox.store.links import MediaOutcomeRow


async def insert_accepted(
    database: Database,
    *,
    wamid: str,
    channel_id: str,
    recipient: str,
    type: str,
    payload: bytes,
    biz_opaque_callback_data: str | None,
    now: float,
    media: Sequence[MediaOutcomeRow] = (),
    next_step: str | None = "sent",
    due_at: float | None = None,
    leased_until: float | None = None,
    first_step: Step | None = None,
    category: str | None = None,
    pricing_type: str | None = None,
    rendered: str | None = None,
) -> None:
    """Store an accepted outbound message, and what is already known of it; returns once
    committed.

    The row is its own first lifecycle event (state ``accepted`` at ``created_at``);
    ``message_events`` holds the transitions after it. ``media``: outcomes known at accept
    (cache hits). ``first_step``: the lifecycle's first step when it needs no waiting (no
    media to check), written with the message (its state, event and webhooks), so a
    message costs the lifecycle one transaction fewer.
    """
    extra: list[tuple[sa.Table, dict[str, Any]]] = [
        (message_media, {**asdict(outcome), "wamid": wamid, "created_at": now}) for outcome in media
    ]
    state = "accepted"
    if first_step is not None:
        state, next_step, due_at = first_step.state, first_step.next_step, first_step.due_at
        extra += [(message_events, row) for row in event_rows(first_step)]
        extra += [(webhook_deliveries, row) for row in delivery_rows(first_step, now)]
    await database.writer.insert(
        (
            (
                messages,
                {
                    "wamid": wamid,
                    "channel_id": channel_id,
                    "direction": "outbound",
                    "recipient": recipient,
                    "type": type,
                    "state": state,
                    "payload": payload.decode(),
                    "biz_opaque_callback_data": biz_opaque_callback_data,
                    "created_at": now,
                    "next_step": next_step,
                    "due_at": due_at if first_step is not None or due_at is not None else now,
                    "leased_until": leased_until,
                    "category": category,
                    "pricing_type": pricing_type,
                    "rendered": rendered,
                },
            ),
            *extra,
        )
    )
    database.signals.publish("messages")


async def list_messages(
    database: Database,
    *,
    channel: str | None = None,
    to: str | None = None,
    type: str | None = None,
    wamid: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> list[StoredMessage]:
    """Newest first, with every lifecycle event of each message; ``after_id`` bounds the
    look (the inbox: a channel's recent messages)."""
    query = sa.select(messages).order_by(messages.c.id.desc()).limit(limit)
    if wamid is not None:
        query = query.where(messages.c.wamid == wamid)
    if after_id:
        query = query.where(messages.c.id > after_id)
    if channel is not None:
        query = query.where(messages.c.channel_id == channel)
    if to is not None:
        query = query.where(messages.c.recipient == to)
    if type is not None:
        query = query.where(messages.c.type == type)
    async with database.snapshot() as connection:
        rows = (await connection.execute(query)).all()
        wamids = [row.wamid for row in rows]
        events: dict[str, list[MessageEvent]] = {
            row.wamid: [MessageEvent(status="accepted", timestamp=row.created_at)] for row in rows
        }
        if wamids:
            event_rows = await connection.execute(
                sa.select(message_events)
                .where(message_events.c.wamid.in_(wamids))
                .order_by(message_events.c.id)
            )
            for event in event_rows:
                events[event.wamid].append(
                    MessageEvent(
                        status=event.status,
                        timestamp=event.created_at,
                        details=msgspec.json.decode(event.details) if event.details else None,
                    )
                )
        media: dict[str, list[MediaOutcome]] = {wamid: [] for wamid in wamids}
        if wamids:
            media_rows = await connection.execute(
                sa.select(message_media)
                .where(message_media.c.wamid.in_(wamids))
                .order_by(message_media.c.id)
            )
            for item in media_rows:
                media[item.wamid].append(
                    MediaOutcome(
                        path=item.path,
                        outcome=item.outcome,
                        link=item.link,
                        media_id=item.media_id,
                        origin_status=item.origin_status,
                        elapsed_ms=item.elapsed_ms,
                        reason=item.reason,
                        joined=item.joined,
                        timestamp=item.created_at,
                    )
                )
    return [_stored(row, events[row.wamid], media[row.wamid]) for row in rows]


def _stored(row: Any, events: list[MessageEvent], media: list[MediaOutcome]) -> StoredMessage:
    return StoredMessage(
        wamid=row.wamid,
        channel=row.channel_id,
        direction=row.direction,
        to=row.recipient,
        type=row.type,
        state=row.state,
        created_at=row.created_at,
        payload=msgspec.json.decode(row.payload),
        biz_opaque_callback_data=row.biz_opaque_callback_data,
        pricing=(
            MessagePricing(category=row.category, type=row.pricing_type)
            if row.category is not None and row.pricing_type is not None
            else None
        ),
        rendered=msgspec.json.decode(row.rendered) if row.rendered else None,
        events=events,
        media=media,
    )


async def clear_messages(database: Database, channel: str | None = None) -> int:
    def write(connection: sa.Connection) -> int:
        query = sa.delete(messages)
        if channel is not None:
            query = query.where(messages.c.channel_id == channel)
        return connection.execute(query).rowcount

    cleared: int = await database.writer.run(write)
    database.signals.publish("messages")
    return cleared


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A business message as the business sent it, for a customer's answer to it."""

    recipient: str
    type: str
    payload: dict[str, Any]
    rendered: dict[str, Any] | None  # a template as the customer saw it


async def sent_message(database: Database, channel_id: str, wamid: str) -> SentMessage | None:
    """The channel's outbound message ``wamid``, or None."""
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(
                    messages.c.recipient, messages.c.type, messages.c.payload, messages.c.rendered
                ).where(
                    messages.c.wamid == wamid,
                    messages.c.channel_id == channel_id,
                    messages.c.direction == "outbound",
                )
            )
        ).first()
    if row is None:
        return None
    payload = msgspec.json.decode(row.payload)
    rendered = msgspec.json.decode(row.rendered) if row.rendered else None
    return SentMessage(
        row.recipient,
        row.type,
        payload if isinstance(payload, dict) else {},
        rendered if isinstance(rendered, dict) else None,
    )
