"""Media metadata rows; the bytes live in the object store (``wabox.media.store``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from wabox.store.database import Database


from wabox.store.tables import media


async def media_is_live(database: Database, channel_id: str, media_id: str, now: float) -> bool:
    """True when ``media_id`` names undeleted, unexpired media of this channel."""
    async with database.engine.connect() as connection:
        found = await connection.scalar(
            sa.select(media.c.id).where(
                media.c.id == media_id,
                media.c.channel_id == channel_id,
                media.c.deleted == sa.false(),
                media.c.expires_at > now,
            )
        )
    return found is not None


async def insert_media(
    database: Database,
    *,
    media_id: str,
    channel_id: str,
    mime_type: str,
    sha256: str,
    file_size: int,
    filename: str | None,
    created_at: float,
    expires_at: float,
) -> None:
    await database.writer.insert(
        (
            (
                media,
                {
                    "id": media_id,
                    "channel_id": channel_id,
                    "mime_type": mime_type,
                    "sha256": sha256,
                    "file_size": file_size,
                    "filename": filename,
                    "created_at": created_at,
                    "expires_at": expires_at,
                    "deleted": False,
                },
            ),
        )
    )
