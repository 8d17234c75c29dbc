"""After a media message is accepted: get its media, and do the bytes pass the rules of its
type (wire-facts §3)?

Meta accepts the POST and reports a broken rule later, as a failed status with 131053
(wire-facts §0.2). The check runs in the background; a broken rule fails the message
with details naming the rule and the measured value, and the lifecycle sends its
``failed`` webhook. A restart before the check leaves the message waiting in its ``check``
step, whose lease running out makes the lifecycle check it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

import msgspec

from wabox.clock import Clock
from wabox.delivery.lifecycle import Lifecycle
from wabox.delivery.message_rules import MediaRef, media_refs
from wabox.errors import MediaUploadError
from wabox.links.fetcher import LinkFailure
from wabox.links.media import LinkMedia
from wabox.media.rules import stored_media_problem
from wabox.media.store import BlobStore
from wabox.schema.messages import AnyMessage
from wabox.schema.sandbox import Channel
from wabox.store.database import Database
from wabox.store.lifecycle import DueMessage
from wabox.store.links import MediaOutcomeRow, record_media_outcome
from wabox.store.media import MediaRow, get_live_media

log = logging.getLogger("wabox.delivery")
_message = msgspec.json.Decoder(AnyMessage)
Target = tuple[str, str, bool]  # (kind, media ID, voice): a verdict holds for all three


# Enough verdicts for every media ID a busy sandbox sends; cleared whole when full.
MAX_VERDICTS = 100_000


class MediaChecks:
    """Runs the checks as background tasks and keeps them until they finish.

    Media bytes never change, so a verdict for (channel, media ID, kind, voice) holds for
    every later message with it: a media ID sent to many recipients is checked once, and
    the accept path starts no task for it again. A link first becomes a media row (from
    the link cache or the origin, ``LinkMedia``), whose verdict is then cached the same way.
    """

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        links: LinkMedia,
        lifecycle: Lifecycle,
        clock: Clock,
    ) -> None:
        self._database = database
        self._blobs = blobs
        self._links = links
        self._lifecycle = lifecycle
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._passed: set[tuple[str, Target]] = set()

    def settle_now(
        self, channel: Channel, refs: Sequence[MediaRef]
    ) -> list[MediaOutcomeRow] | None:
        """The media outcomes of a message that needs no background work, else None.

        That is every message whose media IDs already passed for their kind, and whose
        links are fresh cache hits in this process with a passed verdict: the accept path
        commits these outcomes with the message itself (``wamid`` left empty for it to fill).
        """
        channel_id = channel.phone_number_id
        outcomes = []
        for path, kind, ref, voice in refs:
            if ref.link is not None:
                hit = self._links.fresh_hit(channel, ref.link)
                if hit is None or (channel_id, (kind, hit.media.id, voice)) not in self._passed:
                    return None
                outcomes.append(
                    MediaOutcomeRow(
                        wamid="",
                        path=path,
                        outcome=hit.outcome,
                        link=ref.link,
                        media_id=hit.media.id,
                    )
                )
            elif ref.id is not None and (channel_id, (kind, ref.id, voice)) not in self._passed:
                return None
        if outcomes:
            self._links.metrics.cache.labels("hit").inc(len(outcomes))
        return outcomes

    def submit(self, channel: Channel, wamid: str, refs: Sequence[MediaRef]) -> None:
        """Check the message's media in the background (``settle_now`` said it must wait)."""
        task = asyncio.get_running_loop().create_task(self._check(channel, wamid, refs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def recheck(self, channel: Channel, message: DueMessage) -> None:
        """A check whose lease ran out (the process that ran it died): run it again."""
        try:
            refs = list(media_refs(_message.decode(message.payload)))
        except msgspec.ValidationError:
            refs = []
        if not refs:
            task = asyncio.get_running_loop().create_task(self._lifecycle.release(message.wamid))
        else:
            task = asyncio.get_running_loop().create_task(self._check(channel, message.wamid, refs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._links.close()

    async def _check(self, channel: Channel, wamid: str, refs: Sequence[MediaRef]) -> None:
        try:
            for path, kind, ref, voice in refs:
                if ref.link is not None:
                    if not await self._check_link(channel, wamid, path, ref.link, kind, voice):
                        return
                elif ref.id is not None:
                    row = await get_live_media(
                        self._database, channel.phone_number_id, ref.id, self._clock.now()
                    )
                    problem = await self._verdict(channel.phone_number_id, row, kind, voice)
                    if problem is not None:
                        await self._fail(channel, wamid, problem)
                        return
            await self._lifecycle.release(wamid)
        except Exception:
            log.exception("media check of %s failed; its lease will run out and retry it", wamid)

    async def _check_link(
        self, channel: Channel, wamid: str, path: str, link: str, kind: str, voice: bool
    ) -> bool:
        """Obtain the link's media and check it; False once the message failed.

        The outcome is recorded last, so a message whose outcome is visible is settled.
        """
        outcome = MediaOutcomeRow(wamid=wamid, path=path, link=link, outcome="failed")
        try:
            obtained = await self._links.obtain(channel, link, kind)
        except LinkFailure as failure:
            await self._fail(channel, wamid, failure.details)
            await record_media_outcome(
                self._database,
                dataclasses.replace(outcome, origin_status=failure.status, reason=failure.reason),
                self._clock.now(),
            )
            return False
        problem = await self._verdict(channel.phone_number_id, obtained.media, kind, voice)
        if problem is not None:
            await self._fail(channel, wamid, problem)
        elapsed = obtained.elapsed
        outcome = dataclasses.replace(
            outcome,
            outcome=obtained.outcome,
            media_id=obtained.media.id,
            origin_status=obtained.origin_status,
            elapsed_ms=None if elapsed is None else round(elapsed * 1000, 3),
            joined=obtained.joined,
            reason=None if problem is None else "media_rules",
        )
        await record_media_outcome(self._database, outcome, self._clock.now())
        return problem is None

    async def _verdict(
        self, channel_id: str, row: MediaRow | None, kind: str, voice: bool
    ) -> str | None:
        """The rule ``row`` breaks for ``kind``; passed verdicts are remembered."""
        if row is not None and (channel_id, (kind, row.id, voice)) in self._passed:
            return None
        problem = await self._problem(row, kind, voice)
        if problem is None and row is not None:
            if len(self._passed) >= MAX_VERDICTS:
                self._passed.clear()
            self._passed.add((channel_id, (kind, row.id, voice)))
        return problem

    async def _fail(self, channel: Channel, wamid: str, details: str) -> None:
        await self._lifecycle.fail(channel, wamid, MediaUploadError(details))

    async def _problem(self, row: MediaRow | None, kind: str, voice: bool) -> str | None:
        if row is None:
            return "The media was deleted or expired before the message was sent."
        return await stored_media_problem(
            self._blobs, row.sha256, kind, row.mime_type, row.file_size, voice=voice
        )
