"""After a media message is accepted: do its bytes pass the rules of its type (wire-facts §3)?

Meta accepts the POST and reports a broken rule later, as a failed status with 131053
(wire-facts §0.2). The check runs in the background; a broken rule marks the message
failed with details naming the rule and the measured value. The lifecycle issue turns
that into a webhook; a restart before the check leaves the message ``accepted``, for the
lifecycle's recovery to pick up.
"""

from __future__ import annotations

import asyncio
import logging
import time

from wabox.api.errors import MediaUploadError
from wabox.delivery.accept import media_refs
from wabox.media.inspect import SNIFF_BYTES, check, size_problem
from wabox.media.store import BlobStore
from wabox.schema.messages import AnyMessage, AudioMessage
from wabox.store.database import Database
from wabox.store.media import MediaRow, get_live_media
from wabox.store.messages import fail_message

log = logging.getLogger("wabox.delivery")
Target = tuple[str, str, bool]  # (kind, media ID, voice)


def media_by_id(message: AnyMessage) -> list[Target]:
    """(kind, media ID, voice) for every media object sent by ID, headers included."""
    found = []
    for path, ref in media_refs(message):
        if ref.id is None:
            continue
        kind = path if "[" not in path else path.rsplit("['", 1)[1].rstrip("']")
        voice = isinstance(message, AudioMessage) and bool(message.audio.voice)
        found.append((kind, ref.id, voice))
    return found


# Enough verdicts for every media ID a busy sandbox sends; cleared whole when full.
MAX_VERDICTS = 100_000


class MediaChecks:
    """Runs the checks as background tasks and keeps them until they finish.

    Media bytes never change, so a verdict for (channel, media ID, kind, voice) holds for
    every later message with it: a media ID sent to many recipients is checked once, and
    the accept path starts no task for it again.
    """

    def __init__(self, database: Database, blobs: BlobStore) -> None:
        self._database = database
        self._blobs = blobs
        self._tasks: set[asyncio.Task[None]] = set()
        self._passed: set[tuple[str, Target]] = set()

    def submit(self, channel_id: str, wamid: str, message: AnyMessage) -> None:
        targets = [t for t in media_by_id(message) if (channel_id, t) not in self._passed]
        if not targets:
            return
        task = asyncio.get_running_loop().create_task(self._check(channel_id, wamid, targets))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _check(self, channel_id: str, wamid: str, targets: list[Target]) -> None:
        try:
            for kind, media_id, voice in targets:
                row = await get_live_media(self._database, channel_id, media_id, time.time())
                problem = await self._problem(row, kind, voice)
                if problem is None:
                    if len(self._passed) >= MAX_VERDICTS:
                        self._passed.clear()
                    self._passed.add((channel_id, (kind, media_id, voice)))
                else:
                    error = MediaUploadError(problem)
                    details = {"code": error.code, "title": error.title, "details": error.details}
                    await fail_message(self._database, wamid, details, time.time())
                    return
        except Exception:
            log.exception("media check of %s failed", wamid)

    async def _problem(self, row: MediaRow | None, kind: str, voice: bool) -> str | None:
        if row is None:
            return "The media was deleted or expired before the message was sent."
        problem = size_problem(kind, row.file_size)
        if problem is not None:
            return problem
        # Sizes are bounded above (16 MB at most outside documents, whose head is enough).
        end = min(row.file_size, SNIFF_BYTES) if kind == "document" else row.file_size
        try:
            chunks = await self._blobs.read(row.sha256, 0, end) if end else None
            content = b"".join([chunk async for chunk in chunks]) if chunks is not None else b""
        except FileNotFoundError:
            return "The media's bytes are missing from the media store."
        return await asyncio.to_thread(check, kind, row.mime_type, content, voice=voice)
