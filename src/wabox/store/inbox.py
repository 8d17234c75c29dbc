"""The inbox's reads: customers per channel with their last message, search, and a
change marker for live updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from wabox.store.tables import (
    conversations,
    media,
    message_events,
    message_media,
    messages,
    webhook_attempts,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from wabox.store.database import Database


@dataclass(frozen=True, slots=True)
class Customer:
    wa_id: str
    name: str | None
    username: str | None
    last_type: str
    last_direction: str
    last_payload: Any
    last_rendered: Any  # a template's rendered text, else None
    last_at: float
    unread: int
    window_expires_at: float | None


# The inbox reads a channel's latest messages only: under a load test a channel holds
# millions, and an index to reach older ones would tax every accepted message (measured:
# about 5 % of bench/run.py for an index on (channel_id, recipient, id)).
RECENT = 20_000


async def chat_floor(database: Database, channel_id: str) -> int:
    """The id below which the inbox does not look: the channel's RECENT-th newest."""
    async with database.engine.connect() as connection:
        return await recent_floor(connection, channel_id)


async def recent_floor(connection: AsyncConnection, channel_id: str) -> int:
    found = await connection.scalar(
        sa.select(messages.c.id)
        .where(messages.c.channel_id == channel_id)
        .order_by(messages.c.id.desc())
        .limit(1)
        .offset(RECENT)
    )
    return int(found or 0)


async def customers(database: Database, channel_id: str, limit: int = 200) -> list[Customer]:
    """Everyone the channel wrote to or heard from within its RECENT latest messages, the
    latest conversation first. Unread counts are kept on the conversation. With 200,000
    messages in the channel this takes about 25 ms, where one scan of them all took 135 ms.
    """
    last_id = sa.func.max(messages.c.id).label("last_id")
    async with database.snapshot() as connection:
        floor = await recent_floor(connection, channel_id)
        grouped = (
            sa.select(messages.c.recipient, last_id)
            .where(messages.c.channel_id == channel_id, messages.c.id > floor)
            .group_by(messages.c.recipient)
            .order_by(last_id.desc())
            .limit(limit)
        )
        groups = (await connection.execute(grouped)).all()
        if not groups:
            return []
        last = {
            row.id: row
            for row in await connection.execute(
                sa.select(messages).where(messages.c.id.in_([g.last_id for g in groups]))
            )
        }
        known = {
            row.wa_id: row
            for row in await connection.execute(
                sa.select(conversations).where(
                    conversations.c.channel_id == channel_id,
                    conversations.c.wa_id.in_([g.recipient for g in groups]),
                )
            )
        }
    found = []
    for group in groups:
        message, conversation = last[group.last_id], known.get(group.recipient)
        found.append(
            Customer(
                wa_id=group.recipient,
                name=conversation.profile_name if conversation is not None else None,
                username=conversation.username if conversation is not None else None,
                last_type=message.type,
                last_direction=message.direction,
                last_payload=msgspec.json.decode(message.payload),
                last_rendered=msgspec.json.decode(message.rendered) if message.rendered else None,
                last_at=message.created_at,
                unread=conversation.unread if conversation is not None else 0,
                window_expires_at=(
                    conversation.window_expires_at if conversation is not None else None
                ),
            )
        )
    return found


async def search(database: Database, channel_id: str, text: str, limit: int = 50) -> list[Any]:
    """Messages whose text, caption, filename, rendered template, wamid or number holds
    ``text`` (case-insensitive), newest first."""
    pattern = f"%{text.lower()}%"
    query = (
        sa.select(messages)
        .where(
            messages.c.channel_id == channel_id,
            sa.or_(
                sa.func.lower(messages.c.payload).like(pattern),
                sa.func.lower(sa.func.coalesce(messages.c.rendered, "")).like(pattern),
                messages.c.wamid == text,
                messages.c.recipient.like(f"%{text}%"),
            ),
        )
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    async with database.engine.connect() as connection:
        return list((await connection.execute(query)).all())


async def media_sizes(database: Database, media_ids: list[str]) -> dict[str, tuple[int, str]]:
    """media ID → (file size, MIME type), for document cards."""
    if not media_ids:
        return {}
    query = sa.select(media.c.id, media.c.file_size, media.c.mime_type).where(
        media.c.id.in_(media_ids)
    )
    async with database.engine.connect() as connection:
        return {row.id: (row.file_size, row.mime_type) for row in await connection.execute(query)}


async def change_marker(database: Database) -> tuple[Any, ...]:
    """Changes whenever a message, a status, a media outcome or a webhook attempt is
    written, by any process: what the live view polls."""
    query = sa.select(
        sa.select(sa.func.max(messages.c.id)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(messages).scalar_subquery(),
        sa.select(sa.func.max(message_events.c.id)).scalar_subquery(),
        sa.select(sa.func.max(message_media.c.id)).scalar_subquery(),
        sa.select(sa.func.max(webhook_attempts.c.id)).scalar_subquery(),
    )
    async with database.engine.connect() as connection:
        row = (await connection.execute(query)).one()
    return tuple(row)
