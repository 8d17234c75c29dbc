"""Inbound messages and the customer service window they open, written together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wabox.schema.inbound import Conversation
from wabox.store.tables import conversations, message_events, messages, webhook_deliveries

if TYPE_CHECKING:
    from wabox.store.database import Database


class OpenWindows:
    """(channel, customer) → when their window closes, as last seen by this process.

    A window only ever moves later, so a remembered expiry is a lower bound of the true
    one, in every process: while it lies ahead the window is open and the send path skips
    the query. Past it, or for a customer never seen, the database decides (another
    process may have taken the customer's newer message).
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str], float] = {}

    def open_until(self, channel_id: str, wa_id: str, now: float) -> float | None:
        expires_at = self._entries.get((channel_id, wa_id))
        return expires_at if expires_at is not None and expires_at > now else None

    def saw(self, channel_id: str, wa_id: str, expires_at: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        key = (channel_id, wa_id)
        self._entries[key] = max(expires_at, self._entries.get(key, expires_at))

    def forget_channel(self, channel_id: str) -> None:
        """A deleted channel's windows went with it (its id may be used again)."""
        self._entries = {k: v for k, v in self._entries.items() if k[0] != channel_id}


async def record_inbound(
    database: Database,
    *,
    channel_id: str,
    wamid: str,
    wa_id: str,
    name: str | None,
    type: str,
    message: bytes,
    username: str | None = None,
    webhook: bytes | None,
    now: float,
    window: float,
) -> None:
    """Store the message, open or refresh the window, enqueue the webhook: one transaction."""

    def write(connection: sa.Connection) -> None:
        connection.execute(
            sa.insert(messages).values(
                wamid=wamid,
                channel_id=channel_id,
                direction="inbound",
                recipient=wa_id,
                type=type,
                state="received",
                payload=message.decode(),
                created_at=now,
            )
        )
        key = (conversations.c.channel_id == channel_id) & (conversations.c.wa_id == wa_id)
        known = connection.execute(sa.select(conversations.c.profile_name).where(key)).first()
        values: dict[str, Any] = {"last_inbound_at": now, "window_expires_at": now + window}
        if username is not None:
            values["username"] = username
        if known is None:
            connection.execute(
                sa.insert(conversations).values(
                    channel_id=channel_id, wa_id=wa_id, profile_name=name, unread=1, **values
                )
            )
        else:
            if name is not None:
                values["profile_name"] = name
            values["unread"] = conversations.c.unread + 1
            connection.execute(sa.update(conversations).where(key).values(**values))
        if webhook is not None:
            connection.execute(
                sa.insert(webhook_deliveries).values(
                    channel_id=channel_id,
                    wamid=wamid,
                    event="message",
                    payload=webhook.decode(),
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    await database.writer.run(write)
    database.open_windows.saw(channel_id, wa_id, now + window)
    database.signals.publish("messages")


async def mark_inbound_read(
    database: Database, channel_id: str, wamid: str, now: float, typing_for: float | None = None
) -> bool:
    """The business read the customer's message, and with it every earlier one from that
    customer (as WhatsApp shows it); False if the channel received no such message.
    ``typing_for``: the business shows a typing indicator for that many seconds."""

    def write(connection: sa.Connection) -> bool:
        found = connection.execute(
            sa.select(messages.c.id, messages.c.recipient).where(
                messages.c.wamid == wamid,
                messages.c.channel_id == channel_id,
                messages.c.direction == "inbound",
            )
        ).first()
        if found is None:
            return False
        if typing_for is not None:
            connection.execute(
                sa.update(conversations)
                .where(
                    conversations.c.channel_id == channel_id,
                    conversations.c.wa_id == found.recipient,
                )
                .values(typing_since=now, typing_until=now + typing_for)
            )
        unread = sa.and_(
            messages.c.channel_id == channel_id,
            messages.c.recipient == found.recipient,
            messages.c.direction == "inbound",
            messages.c.state == "received",
            messages.c.id <= found.id,
        )
        wamids = list(connection.scalars(sa.select(messages.c.wamid).where(unread)))
        if wamids:
            connection.execute(sa.update(messages).where(unread).values(state="read"))
            connection.execute(
                sa.insert(message_events),
                [{"wamid": w, "status": "read", "created_at": now} for w in wamids],
            )
            still_unread = (
                sa.select(sa.func.count())
                .select_from(messages)
                .where(
                    messages.c.channel_id == channel_id,
                    messages.c.recipient == found.recipient,
                    messages.c.state == "received",
                )
                .scalar_subquery()
            )
            connection.execute(
                sa.update(conversations)
                .where(
                    conversations.c.channel_id == channel_id,
                    conversations.c.wa_id == found.recipient,
                )
                .values(unread=still_unread)
            )
        return True

    found = bool(await database.writer.run(write))
    if found:
        database.signals.publish("messages")
    return found


async def window_expires_at(
    database: Database, channel_id: str, wa_id: str, now: float
) -> float | None:
    """When the customer's service window closes (or closed); None if they never wrote."""
    remembered = database.open_windows.open_until(channel_id, wa_id, now)
    if remembered is not None:
        return remembered
    async with database.engine.connect() as connection:
        found = await connection.scalar(
            sa.select(conversations.c.window_expires_at).where(
                conversations.c.channel_id == channel_id, conversations.c.wa_id == wa_id
            )
        )
    if found is None:
        return None
    database.open_windows.saw(channel_id, wa_id, float(found))
    return float(found)


async def known_customer(
    database: Database, channel_id: str, wa_id: str
) -> tuple[str | None, str | None] | None:
    """The profile name and username a customer last wrote with; None if it never wrote."""
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(conversations.c.profile_name, conversations.c.username).where(
                    conversations.c.channel_id == channel_id, conversations.c.wa_id == wa_id
                )
            )
        ).first()
    return None if row is None else (row.profile_name, row.username)


async def customer_by_username(database: Database, channel_id: str, username: str) -> str | None:
    """The key of the customer who last wrote with this username, if any."""
    async with database.engine.connect() as connection:
        found = await connection.scalar(
            sa.select(conversations.c.wa_id)
            .where(conversations.c.channel_id == channel_id, conversations.c.username == username)
            .order_by(conversations.c.last_inbound_at.desc())
            .limit(1)
        )
    return None if found is None else str(found)


async def list_conversations(
    database: Database, now: float, channel: str | None = None, wa_id: str | None = None
) -> list[Conversation]:
    """The customers' conversations, the latest first. The business's typing indicator
    shows until ``typing_until`` or its next message to the customer, whichever is first
    (looked up only while one shows: an indicator lasts 25 s at most)."""
    answered = sa.exists().where(
        messages.c.channel_id == conversations.c.channel_id,
        messages.c.recipient == conversations.c.wa_id,
        messages.c.direction == "outbound",
        messages.c.created_at >= conversations.c.typing_since,
    )
    typing = sa.case((conversations.c.typing_until > now, ~answered), else_=False)
    query = sa.select(conversations, typing.label("typing")).order_by(
        conversations.c.last_inbound_at.desc()
    )
    if channel is not None:
        query = query.where(conversations.c.channel_id == channel)
    if wa_id is not None:
        query = query.where(conversations.c.wa_id == wa_id)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        Conversation(
            channel=row.channel_id,
            wa_id=row.wa_id,
            name=row.profile_name,
            username=row.username,
            window="open" if row.window_expires_at > now else "closed",
            window_expires_at=row.window_expires_at,
            last_inbound_at=row.last_inbound_at,
            unread=row.unread,
            typing_since=row.typing_since if row.typing else None,
            typing_until=row.typing_until if row.typing else None,
        )
        for row in rows
    ]
