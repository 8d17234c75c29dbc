"""The link cache's rows, and the per-message record of how media was obtained."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wabox.store.media import CONFIRMED_FOR, LiveMediaCache, MediaRow
from wabox.store.tables import link_cache, media, message_media

if TYPE_CHECKING:
    from wabox.store.database import Database

# Fresh entries remembered per process; cleared whole when full (the database keeps them).
MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A cached link: the media row holding its bytes, and when it may be reused."""

    channel_id: str
    url: str
    policy: str
    media_id: str
    fetched_at: float
    fresh_until: float  # reusable without asking the origin until then
    revalidate: str | None  # or reusable after a conditional request of this kind
    last_modified: str | None
    etag: str | None


class FreshLinks:
    """Fresh link cache entries with their media row, so a cache hit costs no query.

    Only fresh entries are kept, and each with the generation of the live-media cache it
    was confirmed under: media deleted or expired early here since (``LiveMediaCache``
    bumps its generation) makes every remembered hit ask the database again, and so does
    one confirmed more than ``CONFIRMED_FOR`` seconds ago, so that a deletion in another
    process is seen as soon as ``LiveMediaCache`` sees it. The store's own writes
    (``put_cache_entry``, ``drop_cache_entry``, a channel's deletion) evict here.
    """

    def __init__(self, live_media: LiveMediaCache, ttl: float = CONFIRMED_FOR) -> None:
        self._live_media = live_media
        self._ttl = ttl
        self._entries: dict[tuple[str, str], tuple[CacheEntry, MediaRow, int, float]] = {}

    def get(self, channel_id: str, url: str, policy: str, now: float) -> MediaRow | None:
        remembered = self._entries.get((channel_id, url))
        if remembered is None:
            return None
        entry, row, generation, confirmed_at = remembered
        if (
            entry.policy != policy
            or now >= entry.fresh_until
            or generation != self._live_media.generation
            or time.monotonic() - confirmed_at >= self._ttl
        ):
            return None
        return row

    def remember(self, entry: CacheEntry, row: MediaRow, now: float) -> None:
        if entry.fresh_until <= now:
            return
        if len(self._entries) >= MAX_REMEMBERED:
            self._entries.clear()
        key = (entry.channel_id, entry.url)
        self._entries[key] = (entry, row, self._live_media.generation, time.monotonic())

    def forget(self, channel_id: str, url: str) -> None:
        self._entries.pop((channel_id, url), None)

    def forget_channel(self, channel_id: str) -> None:
        self._entries = {k: v for k, v in self._entries.items() if k[0] != channel_id}


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


async def get_cache_entry(database: Database, channel_id: str, url: str) -> CacheEntry | None:
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(link_cache).where(
                    link_cache.c.channel_id == channel_id, link_cache.c.url_key == url_key(url)
                )
            )
        ).first()
    if row is None or row.url != url:
        return None
    return CacheEntry(
        channel_id=row.channel_id,
        url=row.url,
        policy=row.policy,
        media_id=row.media_id,
        fetched_at=row.fetched_at,
        fresh_until=row.fresh_until,
        revalidate=row.revalidate,
        last_modified=row.last_modified,
        etag=row.etag,
    )


async def put_cache_entry(database: Database, entry: CacheEntry) -> None:
    """Insert or replace the entry for (channel, URL)."""
    values = {**asdict(entry), "url_key": url_key(entry.url)}

    def write(connection: sa.Connection) -> None:
        _delete(connection, entry.channel_id, entry.url)
        connection.execute(sa.insert(link_cache).values(values))

    database.fresh_links.forget(entry.channel_id, entry.url)
    await database.writer.run(write)


async def drop_cache_entry(database: Database, channel_id: str, url: str) -> None:
    database.fresh_links.forget(channel_id, url)
    await database.writer.run(lambda connection: _delete(connection, channel_id, url))


async def remove_dead_cache_entries(database: Database, now: float) -> int:
    """Entries whose media row is gone, or that are stale and have no way to revalidate."""

    def write(connection: sa.Connection) -> int:
        live = sa.select(media.c.id).where(media.c.deleted == sa.false(), media.c.expires_at > now)
        dead = sa.or_(
            link_cache.c.media_id.not_in(live),
            sa.and_(link_cache.c.revalidate.is_(None), link_cache.c.fresh_until <= now),
        )
        return connection.execute(sa.delete(link_cache).where(dead)).rowcount

    return await database.writer.run(write)


def _delete(connection: sa.Connection, channel_id: str, url: str) -> None:
    connection.execute(
        sa.delete(link_cache).where(
            link_cache.c.channel_id == channel_id, link_cache.c.url_key == url_key(url)
        )
    )


@dataclass(frozen=True, slots=True)
class MediaOutcomeRow:
    wamid: str
    path: str
    outcome: str
    link: str | None = None
    media_id: str | None = None
    origin_status: int | None = None
    elapsed_ms: float | None = None
    reason: str | None = None
    joined: bool = False


async def record_media_outcome(database: Database, outcome: MediaOutcomeRow, now: float) -> None:
    values = {**asdict(outcome), "created_at": now}
    await database.writer.insert(((message_media, values),))
    database.signals.publish("messages")
