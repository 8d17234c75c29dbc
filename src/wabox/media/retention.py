"""Retention: expired and deleted media rows go, and so do bytes no live row points at.

Uploads insert their row and move their bytes to the content key while holding that
key's lock, and releasing bytes takes the same lock: a delete never removes bytes a new
row already points at. The lock is this process's and the database's (an advisory lock
per content hash), so it holds for every process on the database; and one process sweeps
at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time

from wabox.clock import Clock
from wabox.media.store import BlobStore
from wabox.schema.media import SweepResult
from wabox.store.database import Database
from wabox.store.link_flights import remove_old_flights
from wabox.store.links import remove_dead_cache_entries
from wabox.store.media import blob_in_use, remove_dead_media

log = logging.getLogger("wabox.media")


async def release_bytes(database: Database, blobs: BlobStore, sha256: str, now: float) -> bool:
    """Delete the bytes when no live media row points at them; True if they went."""
    async with blobs.holding(sha256), database.holding_blob(sha256):
        if await blob_in_use(database, sha256, now):
            return False
        await blobs.delete(sha256)
        return True


async def sweep(database: Database, blobs: BlobStore, now: float | None = None) -> SweepResult:
    now = time.time() if now is None else now
    rows = blobs_removed = 0
    while True:
        removed, shas = await remove_dead_media(database, now)
        if not removed:
            break
        rows += removed
        for sha256 in shas:
            blobs_removed += await release_bytes(database, blobs, sha256, now)
    stale_links = await remove_dead_cache_entries(database, now)
    await remove_old_flights(database)
    return SweepResult(rows=rows, blobs=blobs_removed, link_cache=stale_links)


async def run_sweeper(database: Database, blobs: BlobStore, interval: float, clock: Clock) -> None:
    """Sweep every ``interval`` real seconds, at the clock's time, until cancelled; a failed
    sweep is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with database.sweeping() as mine:
                if mine:
                    await sweep(database, blobs, clock.now())
        except Exception:
            log.exception("media sweep failed; trying again in %s s", interval)
