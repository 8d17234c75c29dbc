"""Retention: expired and deleted media rows go, and so do bytes no live row points at.

Uploads insert their row before they move their bytes to the content key, so a sweep
racing an upload of the same bytes can at worst delete a copy the upload then restores.
"""

from __future__ import annotations

import asyncio
import logging
import time

from wabox.media.store import BlobStore
from wabox.schema.media import SweepResult
from wabox.store.database import Database
from wabox.store.media import blob_in_use, remove_dead_media

log = logging.getLogger("wabox.media")


async def sweep(database: Database, blobs: BlobStore, now: float | None = None) -> SweepResult:
    now = time.time() if now is None else now
    rows = blobs_removed = 0
    while True:
        removed, shas = await remove_dead_media(database, now)
        if not removed:
            break
        rows += removed
        for sha256 in shas:
            if not await blob_in_use(database, sha256, now):
                await blobs.delete(sha256)
                blobs_removed += 1
    return SweepResult(rows=rows, blobs=blobs_removed)


async def run_sweeper(database: Database, blobs: BlobStore, interval: float) -> None:
    """Sweep every ``interval`` seconds until cancelled; a failed sweep is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep(database, blobs)
        except Exception:
            log.exception("media sweep failed; trying again in %s s", interval)
