"""Delivers the outbox: signed POSTs, retries with backoff, order per message, fair lanes.

- Success is a 2xx within ``timeout`` (5 s, 360dialog's rule); anything else is retried
  with exponential backoff and jitter (the first retry within 1 s, then 1–2 s, 2–4 s, …,
  at most an hour apart) until ``retry_for`` (7 days) after the webhook was enqueued, then
  it is dead and stays visible in ``GET /sandbox/webhooks``.
- For one message a webhook waits until every earlier one is acknowledged (or dead): the
  claim query skips it while an earlier one is pending.
- Each channel has its own lane of at most ``per_channel`` POSTs in flight, and the claim
  takes due webhooks channel by channel, so a slow or dead receiver fills only its own lane.
- Claimed webhooks carry a lease on real time (``store/leases.py``); after a crash they
  are due again when it ends, so a webhook is delivered at least once. Results are
  written in batches, like a group commit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict

import aiohttp

from wabox import __version__
from wabox.clock import Clock
from wabox.store import leases
from wabox.store.database import Database
from wabox.store.webhooks import (
    Claimed,
    Outcome,
    channels_with_due,
    claim,
    finish,
    next_attempt_after,
    record,
)
from wabox.webhooks.signing import HEADER, signature

log = logging.getLogger("wabox.webhooks")
USER_AGENT = f"wabox/{__version__} (webhooks)"
MAX_BACKOFF = 3600.0
FULL_LOOK_EVERY = 10.0  # seconds between looks for due webhooks of any channel
POLL = 1.0
# A claimed POST is leased for its timeout and this many real seconds more (to write its
# result); a process that dies mid-POST has its webhooks taken over when the lease ends.
LEASE_MARGIN = 10.0


def backoff(attempts: int) -> float:
    """Seconds before retry number ``attempts`` (1 = the first retry)."""
    step = MAX_BACKOFF if attempts > 13 else min(2.0 ** (attempts - 1), MAX_BACKOFF)
    return step * random.uniform(0.5, 1.0)


class Dispatcher:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        retry_for: float,
        timeout: float = 5.0,
        per_channel: int = 64,
    ) -> None:
        self._database = database
        self._clock = clock
        self._retry_for = retry_for
        self._timeout = timeout
        self._per_channel = per_channel
        self._wake = asyncio.Event()
        self._inflight: dict[str, int] = defaultdict(int)
        self._claimed: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[Outcome] = []
        self._results_ready = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._orphans: set[str] = set()
        # Webhooks another process enqueued wake nobody here: look again at least this
        # often (real seconds) on a database many processes share.
        self._poll = POLL if database.dialect == "postgresql" else None
        self._next_full_look = 0.0
        self._running = False
        database.signals.subscribe("webhooks", lambda _arg: self._wake.set())

    def wake(self) -> None:
        """A webhook is due: the dispatcher here looks now; where none runs here (an
        API-only process), the other processes' dispatchers are told."""
        self._database.signals.publish("webhooks", others=not self._running)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,
            )
        return self._session

    async def run(self) -> None:
        recorder = asyncio.get_running_loop().create_task(self._record_results())
        self._running = True
        try:
            while True:
                try:
                    await self._round()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook dispatch failed; retrying in 1 s")
                    await asyncio.sleep(1)
        finally:
            self._running = False
            recorder.cancel()

    async def _round(self) -> None:
        now = self._clock.now()
        if time.monotonic() >= self._next_full_look:
            # Channels whose webhook was removed still have to settle their rows (as dead).
            self._orphans = set(await channels_with_due(self._database, now))
            self._next_full_look = time.monotonic() + FULL_LOOK_EVERY
        channels = {
            c.phone_number_id
            for c in self._database.channels.all()
            if c.settings.webhook is not None
        }
        rooms = {
            channel: self._per_channel - self._inflight.get(channel, 0)
            for channel in channels | self._orphans
        }
        claimed = await claim(self._database, now, rooms, self._timeout + LEASE_MARGIN)
        for delivery in claimed:
            self._inflight[delivery.channel_id] += 1
            self._claimed.add(delivery.id)
            task = asyncio.get_running_loop().create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if claimed:
            return
        # Anything due now but not claimed waits for a lane or an earlier webhook: both
        # end with a result, which wakes this loop. Otherwise sleep until the next retry.
        due, lease_end = await next_attempt_after(self._database, now)
        poll = leases.look_by(self._poll, lease_end)  # a POST's lease ends: due again then
        await self._clock.sleep_until(due, self._wake, poll)

    async def _deliver(self, delivery: Claimed) -> None:
        channel = await self._database.channels.find(delivery.channel_id)
        config = channel.settings.webhook if channel is not None else None
        at = self._clock.now()
        if config is None:
            gone = "the channel has no webhook URL any more"
            self._finish(delivery, Outcome(delivery.id, at, "", None, 0.0, gone, False, None))
            return
        body = delivery.payload.encode()
        headers = {"Content-Type": "application/json", **config.headers}
        if config.app_secret:
            headers[HEADER] = signature(body, config.app_secret)
        status: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            async with self._client().post(
                config.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                status = response.status
                await response.content.read(64 * 1024)
        except TimeoutError:
            error = f"no answer within {self._timeout:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.monotonic() - started) * 1000, 3)
        delivered = status is not None and 200 <= status < 300
        retry_at = None
        if not delivered:
            retry_at = at + backoff(delivery.attempts + 1)
            if retry_at - delivery.created_at > self._retry_for:
                retry_at = None
            if error is None:
                error = f"HTTP {status}"
        self._finish(
            delivery,
            Outcome(delivery.id, at, config.url, status, latency_ms, error, delivered, retry_at),
        )

    def _finish(self, delivery: Claimed, outcome: Outcome) -> None:
        self._inflight[delivery.channel_id] -= 1
        if not self._inflight[delivery.channel_id]:
            del self._inflight[delivery.channel_id]
        self._results.append(outcome)
        self._results_ready.set()

    async def _record_results(self) -> None:
        """Write results in batches; each batch frees lanes and the webhooks behind them."""
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            try:
                await record(self._database, batch)
            except Exception:
                log.exception("recording %d webhook results failed", len(batch))
                self._results[:0] = batch
                await asyncio.sleep(1)
                self._results_ready.set()
                continue
            for outcome in batch:
                self._claimed.discard(outcome.id)
            self._wake.set()

    async def close(self) -> None:
        """Stop, write what finished, and give unfinished claims back so they are due now."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        batch, self._results = self._results, []
        finished = {outcome.id for outcome in batch}
        unfinished = [i for i in self._claimed if i not in finished]
        try:
            await finish(self._database, batch, unfinished, self._clock.now())
        except Exception:
            log.exception("could not record webhook results at shutdown; leases will expire")
        if self._session is not None:
            await self._session.close()
