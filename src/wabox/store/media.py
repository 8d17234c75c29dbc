"""Media metadata rows; the bytes live in the object store (``wabox.media.store``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from wabox.store.database import Database


from wabox.store.signals import EVERYTHING
from wabox.store.tables import media

# How long a process trusts what it confirmed about a media row: a deletion or early expiry
# in another process is seen within this many (real) seconds.
CONFIRMED_FOR = 5.0


class LiveMediaCache:
    """Recently confirmed (channel, media ID) → expires_at, so the send path skips a query.

    Clients upload once and send the same ID to many recipients, so nearly every lookup
    repeats. A deletion in this process evicts at once; one in another process is seen
    after ``ttl`` seconds at most.
    """

    def __init__(self, ttl: float = CONFIRMED_FOR, max_entries: int = 100_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, float]] = {}
        # Bumped whenever media dies early here (delete, expire-now); other caches built on
        # "this media row is live" compare it to drop what they remember.
        self.generation = 0

    def get(self, channel_id: str, media_id: str, now: float) -> bool:
        entry = self._entries.get((channel_id, media_id))
        if entry is None:
            return False
        expires_at, confirmed_at = entry
        if expires_at <= now or time.monotonic() - confirmed_at > self._ttl:
            del self._entries[(channel_id, media_id)]
            return False
        return True

    def put(self, channel_id: str, media_id: str, expires_at: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[(channel_id, media_id)] = (expires_at, time.monotonic())

    def forget(self, channel_id: str, media_id: str) -> None:
        self._entries.pop((channel_id, media_id), None)
        self.generation += 1

    def forget_channel(self, channel_id: str) -> None:
        """A deleted channel's media went with it (its id may be used again)."""
        self._entries = {k: v for k, v in self._entries.items() if k[0] != channel_id}
        self.generation += 1

    def clear(self) -> None:
        self._entries.clear()
        self.generation += 1


async def media_is_live(database: Database, channel_id: str, media_id: str, now: float) -> bool:
    """True when ``media_id`` names undeleted, unexpired media of this channel."""
    if database.live_media.get(channel_id, media_id, now):
        return True
    async with database.engine.connect() as connection:
        expires_at = await connection.scalar(
            sa.select(media.c.expires_at).where(
                media.c.id == media_id,
                media.c.channel_id == channel_id,
                media.c.deleted == sa.false(),
                media.c.expires_at > now,
            )
        )
    if expires_at is None:
        return False
    database.live_media.put(channel_id, media_id, expires_at)
    return True


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
    source: str = "upload",
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
                    "source": source,
                },
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class MediaRow:
    id: str
    channel_id: str
    mime_type: str
    sha256: str
    file_size: int
    filename: str | None
    expires_at: float


def _live(channel_id: str, media_id: str, now: float) -> sa.ColumnElement[bool]:
    return sa.and_(
        media.c.id == media_id,
        media.c.channel_id == channel_id,
        media.c.deleted == sa.false(),
        media.c.expires_at > now,
    )


async def get_live_media(
    database: Database, channel_id: str, media_id: str, now: float
) -> MediaRow | None:
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(sa.select(media).where(_live(channel_id, media_id, now)))
        ).first()
    if row is None:
        return None
    return MediaRow(
        id=row.id,
        channel_id=row.channel_id,
        mime_type=row.mime_type,
        sha256=row.sha256,
        file_size=row.file_size,
        filename=row.filename,
        expires_at=row.expires_at,
    )


async def delete_media(
    database: Database, channel_id: str, media_id: str, now: float
) -> str | None:
    """Mark live media deleted; returns its sha256, or None when there was nothing to delete."""

    def write(connection: sa.Connection) -> str | None:
        sha256 = connection.scalar(
            sa.select(media.c.sha256).where(_live(channel_id, media_id, now))
        )
        if sha256 is not None:
            connection.execute(sa.update(media).where(media.c.id == media_id).values(deleted=True))
        return sha256

    sha256 = await database.writer.run(write)
    database.live_media.forget(channel_id, media_id)
    if sha256 is not None:
        database.signals.publish("media", f"{channel_id}/{media_id}")
    return sha256


async def blob_in_use(database: Database, sha256: str, now: float) -> bool:
    """Whether any live media row, of any channel, still points at these bytes."""
    async with database.engine.connect() as connection:
        found = await connection.scalar(
            sa.select(media.c.id)
            .where(
                media.c.sha256 == sha256, media.c.deleted == sa.false(), media.c.expires_at > now
            )
            .limit(1)
        )
    return found is not None


async def expire_media(database: Database, media_id: str, now: float) -> bool:
    """Make media expire now, whatever its channel (the sandbox's test power)."""

    def write(connection: sa.Connection) -> int:
        query = (
            sa.update(media)
            .where(media.c.id == media_id, media.c.expires_at > now)
            .values(expires_at=now)
        )
        return connection.execute(query).rowcount

    changed = await database.writer.run(write)
    database.live_media.clear()
    if changed:
        database.signals.publish("media", EVERYTHING)  # its channel is not known here
    return changed > 0


async def remove_dead_media(
    database: Database, now: float, limit: int = 1000
) -> tuple[int, list[str]]:
    """Delete up to ``limit`` expired or deleted rows; returns how many, and their sha256s."""

    def write(connection: sa.Connection) -> tuple[int, list[str]]:
        dead = sa.or_(media.c.deleted == sa.true(), media.c.expires_at <= now)
        rows = connection.execute(sa.select(media.c.id, media.c.sha256).where(dead).limit(limit))
        found = rows.all()
        if found:
            connection.execute(sa.delete(media).where(media.c.id.in_([row.id for row in found])))
        return len(found), sorted({row.sha256 for row in found})

    return await database.writer.run(write)
