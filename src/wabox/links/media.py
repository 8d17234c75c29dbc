"""Media for a link: from the channel's cache when its rule allows, else from the origin.

One origin request serves every message that needs the same link at the same moment
(single flight): within a process, the messages that need it wait for one task; across
the processes on one PostgreSQL database, the process that claims the link's flight row
fetches it and the others wait for its result (``store/link_flights.py``), woken by its
signal or, should that be lost, a look every second. Fetched bytes become a media row
(source ``link``) like an upload's, so the type rules, the inbox and retention treat them
alike; the cache entry points at that row. Entries live in the database (shared by
processes and restarts), and fresh ones are also remembered in memory (``store/links.py``'s
``FreshLinks``), so a cache hit costs no query.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from prometheus_client import CollectorRegistry, Counter

from wabox.clock import Clock
from wabox.links.cache import LinkCachePolicy, rule_for
from wabox.links.fetcher import Fetched, Fetcher, LinkFailure
from wabox.media.ingest import keep_blob
from wabox.media.store import BlobStore
from wabox.schema.sandbox import Channel
from wabox.store.database import Database
from wabox.store.link_flights import (
    Flight,
    claim_flight,
    finish_flight,
    flight_name,
    flight_result,
)
from wabox.store.links import CacheEntry, drop_cache_entry, get_cache_entry, put_cache_entry
from wabox.store.media import MediaRow, get_live_media

POLL = 1.0  # real seconds between looks at another process's flight, signal or not
LEASE_MARGIN = 10.0  # a flight's lease: the fetch's whole timeout, and this much more


@dataclass(frozen=True, slots=True)
class Obtained:
    media: MediaRow
    outcome: str  # fetched | cache_hit | revalidated
    origin_status: int | None = None
    elapsed: float | None = None
    joined: bool = False


class LinkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.cache = Counter(
            "wabox_link_cache",
            "Media links used by messages: hit, miss (fetched), revalidated, or joined "
            "(used a fetch already in flight).",
            ["result"],
            registry=registry,
        )
        self.failures = Counter(
            "wabox_link_failures",
            "Failed media link fetches, by reason.",
            ["reason"],
            registry=registry,
        )


def _filename(url: str) -> str | None:
    name = posixpath.basename(unquote(urlsplit(url).path))
    return name or None


class LinkMedia:
    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        fetcher: Fetcher,
        media_ttl: float,
        metrics: LinkMetrics,
        clock: Clock,
        fetch_timeout: float = 20.0,
    ) -> None:
        self._database = database
        self._blobs = blobs
        self._fetcher = fetcher
        self._media_ttl = media_ttl
        self.metrics = metrics
        self._clock = clock
        self._flights: dict[tuple[str, str, str], asyncio.Task[Obtained]] = {}
        self._shared = database.dialect == "postgresql"
        self._lease = fetch_timeout + LEASE_MARGIN
        self._waiting: dict[str, set[asyncio.Event]] = {}  # flight name → waiters here
        database.signals.subscribe("link", self._heard)

    async def obtain(self, channel: Channel, url: str, kind: str) -> Obtained:
        """The media row for ``url`` sent as ``kind``; raises ``LinkFailure``."""
        channel_id = channel.phone_number_id
        policy = channel.settings.link_cache
        hit = self.fresh_hit(channel, url)
        if hit is not None:
            self.metrics.cache.labels("hit").inc()
            return hit
        entry, row = await self._cached(channel_id, url, policy)
        if row is not None:
            self.metrics.cache.labels("hit").inc()
            return Obtained(row, "cache_hit")
        key = (channel_id, url, kind)
        flight = self._flights.get(key)
        joined = flight is not None
        if flight is None:
            flight = asyncio.get_running_loop().create_task(
                self._fly(channel_id, url, kind, policy, entry)
            )
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        try:
            result = await asyncio.shield(flight)
        except LinkFailure as failure:
            self.metrics.failures.labels(failure.reason).inc()
            raise
        if joined or result.joined:
            self.metrics.cache.labels("joined").inc()
            return dataclasses.replace(result, joined=True)
        self.metrics.cache.labels("miss" if result.outcome == "fetched" else result.outcome).inc()
        return result

    def fresh_hit(self, channel: Channel, url: str) -> Obtained | None:
        """A hit this process can answer from memory, without waiting for anything."""
        row = self._database.fresh_links.get(
            channel.phone_number_id, url, channel.settings.link_cache, self._clock.now()
        )
        return None if row is None else Obtained(row, "cache_hit")

    def _landed(self, key: tuple[str, str, str], task: asyncio.Task[Obtained]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody waited for is not logged

    async def close(self) -> None:
        for task in list(self._flights.values()):
            task.cancel()
        await asyncio.gather(*self._flights.values(), return_exceptions=True)
        await self._fetcher.close()

    async def _cached(
        self, channel_id: str, url: str, policy: LinkCachePolicy
    ) -> tuple[CacheEntry | None, MediaRow | None]:
        """The link's cache entry under ``policy``, and its media row when the entry is
        fresh and the media live (then remembered, so the next hit costs no query)."""
        entry = await get_cache_entry(self._database, channel_id, url)
        if entry is None or entry.policy != policy:
            return None, None
        now = self._clock.now()
        if now >= entry.fresh_until:
            return entry, None
        row = await get_live_media(self._database, channel_id, entry.media_id, now)
        if row is not None:
            self._database.fresh_links.remember(entry, row, now)
        return entry, row

    def _heard(self, name: str) -> None:
        for event in self._waiting.get(name, ()):
            event.set()

    async def _fly(
        self,
        channel_id: str,
        url: str,
        kind: str,
        policy: LinkCachePolicy,
        entry: CacheEntry | None,
    ) -> Obtained:
        """Fetch the link, or wait for the process that is fetching it."""
        if not self._shared:  # SQLite: this process is the only one
            return await self._fetch(channel_id, url, kind, policy, entry)
        name = flight_name(channel_id, url, kind)
        landed = asyncio.Event()
        self._waiting.setdefault(name, set()).add(landed)
        try:
            while True:
                if await claim_flight(self._database, channel_id, url, kind, self._lease):
                    return await self._fly_mine(channel_id, url, kind, policy, name)
                flight = await flight_result(self._database, channel_id, url, kind)
                while flight.state == "running":
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(landed.wait(), POLL)
                    landed.clear()
                    flight = await flight_result(self._database, channel_id, url, kind)
                if flight.state == "finished":
                    obtained = await self._landed_elsewhere(channel_id, flight)
                    if obtained is not None:
                        return obtained
                # Its fetcher died, or its media is gone already: fly it here.
        finally:
            waiters = self._waiting[name]
            waiters.discard(landed)
            if not waiters:
                del self._waiting[name]

    async def _fly_mine(
        self, channel_id: str, url: str, kind: str, policy: LinkCachePolicy, name: str
    ) -> Obtained:
        # A flight that just landed elsewhere may have cached what this one would fetch.
        entry, row = await self._cached(channel_id, url, policy)
        if row is not None:
            await self._finish(channel_id, url, kind, name, media_id=row.id, outcome="fetched")
            return Obtained(row, "cache_hit")
        try:
            obtained = await self._fetch(channel_id, url, kind, policy, entry)
        except LinkFailure as failure:
            await self._finish(
                channel_id,
                url,
                kind,
                name,
                failure=(failure.reason, failure.details, failure.status),
            )
            raise
        await self._finish(
            channel_id,
            url,
            kind,
            name,
            media_id=obtained.media.id,
            outcome=obtained.outcome,
            origin_status=obtained.origin_status,
            elapsed=obtained.elapsed,
        )
        return obtained

    async def _finish(self, channel_id: str, url: str, kind: str, name: str, **result: Any) -> None:
        await finish_flight(self._database, channel_id, url, kind, **result)
        self._database.signals.publish("link", name, here=False)  # waiters here share the task

    async def _landed_elsewhere(self, channel_id: str, flight: Flight) -> Obtained | None:
        if flight.failure is not None:
            raise LinkFailure(*flight.failure)
        if flight.media_id is None:
            return None
        row = await get_live_media(self._database, channel_id, flight.media_id, self._clock.now())
        if row is None:
            return None
        return Obtained(
            row, flight.outcome or "fetched", flight.origin_status, flight.elapsed, joined=True
        )

    async def _fetch(
        self,
        channel_id: str,
        url: str,
        kind: str,
        policy: LinkCachePolicy,
        entry: CacheEntry | None,
    ) -> Obtained:
        cached: MediaRow | None = None
        validators: dict[str, str] = {}
        if entry is not None and entry.revalidate is not None:
            cached = await get_live_media(
                self._database, channel_id, entry.media_id, self._clock.now()
            )
        if cached is not None and entry is not None:
            if entry.revalidate == "if-modified-since" and entry.last_modified is not None:
                validators["If-Modified-Since"] = entry.last_modified
            elif entry.etag is not None:
                validators["If-None-Match"] = entry.etag

        def same(headers: Mapping[str, str]) -> bool:
            """A 200 whose validator matches the cached copy's: the copy is current."""
            assert entry is not None
            if "If-Modified-Since" in validators:
                return headers.get("last-modified") == entry.last_modified
            return headers.get("etag") == entry.etag

        fetched = await self._fetcher.fetch(
            url, kind, self._blobs, validators=validators, same=same if validators else None
        )
        if fetched.unchanged and cached is not None and entry is not None:
            if fetched.status == 200 and not rule_for(policy, fetched.headers).store:
                await self._forget(channel_id, url)
            return Obtained(cached, "revalidated", fetched.status, fetched.elapsed)
        row = await self._keep(channel_id, url, fetched)
        await self._store_rule(channel_id, url, policy, fetched, row)
        return Obtained(row, "fetched", fetched.status, fetched.elapsed)

    async def _keep(self, channel_id: str, url: str, fetched: Fetched) -> MediaRow:
        assert fetched.writer is not None and fetched.blob is not None
        assert fetched.mime_type is not None
        try:
            return await keep_blob(
                self._database,
                self._blobs,
                fetched.writer,
                fetched.blob,
                channel_id=channel_id,
                mime_type=fetched.mime_type,
                filename=_filename(url),
                ttl=self._media_ttl,
                source="link",
                now=self._clock.now(),
            )
        except BaseException:
            await fetched.writer.abort()
            raise

    async def _store_rule(
        self, channel_id: str, url: str, policy: LinkCachePolicy, fetched: Fetched, row: MediaRow
    ) -> None:
        rule = rule_for(policy, fetched.headers)
        if not rule.store:
            await self._forget(channel_id, url)
            return
        now = self._clock.now()
        entry = CacheEntry(
            channel_id=channel_id,
            url=url,
            policy=policy,
            media_id=row.id,
            fetched_at=now,
            fresh_until=min(now + rule.fresh_for, row.expires_at),
            revalidate=rule.revalidate,
            last_modified=fetched.headers.get("last-modified"),
            etag=fetched.headers.get("etag"),
        )
        await put_cache_entry(self._database, entry)
        self._database.fresh_links.remember(entry, row, now)

    async def _forget(self, channel_id: str, url: str) -> None:
        await drop_cache_entry(self._database, channel_id, url)
