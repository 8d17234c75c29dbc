"""What one server process holds while it runs, opened by the app's lifespan."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from wabox.clock import Clock
from wabox.config import Config
from wabox.delivery.customer_files import CustomerFiles
from wabox.delivery.inbound import Customers
from wabox.delivery.lifecycle import Lifecycle
from wabox.delivery.media_checks import MediaChecks
from wabox.delivery.scenarios import ScenarioBook, load_scenario_file
from wabox.delivery.send import Sender
from wabox.delivery.throughput import Throughput
from wabox.links.fetcher import Fetcher
from wabox.links.guard import AddressGuard
from wabox.links.media import LinkMedia, LinkMetrics
from wabox.media.limits import PerChannelLimit
from wabox.media.retention import run_sweeper
from wabox.media.store import BlobStore
from wabox.schema.sandbox import (
    Channel,
    ChannelCreate,
    ChannelSettings,
    channel_defaults,
    merged_settings,
)
from wabox.store.buckets import Buckets, MemoryBuckets, RedisBuckets
from wabox.store.database import Database, schema_problem, schema_revision
from wabox.store.settings import add_to_setting, get_setting, put_setting
from wabox.store.signals import EVERYTHING
from wabox.webhooks.dispatcher import Dispatcher
from wabox.webhooks.payloads import status_payload

ADMIN_TOKEN = "admin_token"
URL_SECRET = "url_secret"
DEFAULT_CHANNEL = "default_channel"
VIRTUAL_NOW = "virtual_clock_now"


@dataclass(slots=True)
class Runtime:
    config: Config
    database: Database
    admin_token: str
    default_channel_id: str
    channel_defaults: dict[str, Any]  # WABOX_CHANNEL_DEFAULTS, checked
    blobs: BlobStore
    url_secret: bytes
    upload_limiter: PerChannelLimit
    media_checks: MediaChecks
    sender: Sender
    metrics: CollectorRegistry
    clock: Clock
    scenarios: ScenarioBook
    lifecycle: Lifecycle
    dispatcher: Dispatcher
    buckets: Buckets  # rate limits' state: this process's memory, or Redis
    throughput: Throughput
    customers: Customers
    workers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def default_channel(self) -> Channel | None:
        """As the registry has it now (renamed, re-keyed or deleted since the start)."""
        return self.database.channels.get(self.default_channel_id)

    def start_workers(self) -> None:
        """Background work of this process: the lifecycle, webhooks, the media sweeper."""
        loop = asyncio.get_running_loop()
        self.workers += [
            loop.create_task(self.lifecycle.run(), name="wabox-lifecycle"),
            loop.create_task(self.dispatcher.run(), name="wabox-webhooks"),
            loop.create_task(
                run_sweeper(self.database, self.blobs, self.config.sweep_interval, self.clock),
                name="wabox-media-sweeper",
            ),
        ]

    async def readiness(self) -> dict[str, str]:
        """Each readiness check with ``ok`` or what is wrong (``/readyz``)."""
        checks = {"database": "ok", "schema": "ok"}
        try:
            revision = await asyncio.wait_for(schema_revision(self.database.engine), 2.0)
        except Exception as exc:  # unreachable, refused, timed out: all say "not ready"
            checks["database"] = f"unreachable: {type(exc).__name__}: {exc}"[:300]
            checks["schema"] = "unknown"
        else:
            if (problem := schema_problem(revision, migrating=False)) is not None:
                checks["schema"] = problem
        if self.config.runs_workers:
            stopped = [task.get_name() for task in self.workers if task.done()]
            checks["workers"] = f"stopped: {', '.join(stopped)}" if stopped else "ok"
            if not self.workers:
                checks["workers"] = "not started"
        return checks

    async def advance_clock(self, seconds: float) -> float:
        """Move the virtual clock, persisted so a restart resumes at the same time, for
        every process on the database."""
        now = self.clock.advance(seconds)  # refuses a real clock, or going back
        now = await add_to_setting(self.database, VIRTUAL_NOW, seconds, floor=now - seconds)
        self.clock.catch_up(now)
        self.database.signals.publish("clock", repr(now), here=False)
        return now

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        await self.media_checks.close()
        await self.dispatcher.close()
        await self.buckets.close()
        await self.database.close()


async def open_runtime(config: Config) -> Runtime:
    """Open the store, then make sure the admin token and the default channel exist.

    ``WABOX_ADMIN_TOKEN`` and ``WABOX_API_KEY`` win over what was persisted; without them
    the values generated on the first start are kept, so restarts don't break clients.
    """
    blobs = BlobStore.from_url(config.resolved_media_url)
    database = await Database.open(config.resolved_database_url, migrate_schema=config.migrate)
    try:
        # Processes starting together take turns, so each reads what the first one made.
        async with database.one_at_a_time():
            admin_token = config.admin_token or await get_setting(database, ADMIN_TOKEN)
            if admin_token is None:
                admin_token = secrets.token_urlsafe(24)
            await put_setting(database, ADMIN_TOKEN, admin_token)
            defaults = channel_defaults(config.channel_defaults)
            default = await _default_channel(
                database, config.api_key, merged_settings(defaults, {})
            )
            url_secret = await get_setting(database, URL_SECRET)
            if url_secret is None:
                url_secret = secrets.token_hex(32)
                await put_setting(database, URL_SECRET, url_secret)
            clock = await _clock(database, config.clock)
    except BaseException:
        await database.close()
        raise
    secret = bytes.fromhex(url_secret)
    metrics = CollectorRegistry()
    fail_open = Counter(
        "wabox_rate_limit_fail_open",
        "Requests let through unlimited because Redis (WABOX_REDIS_URL) did not answer",
        registry=metrics,
    )
    buckets: Buckets = (
        RedisBuckets(config.redis_url, on_fail_open=fail_open.inc)
        if config.redis_url
        else MemoryBuckets()
    )
    fetcher = Fetcher(
        AddressGuard(config.link_allow), config.link_connect_timeout, config.link_timeout
    )
    links = LinkMedia(
        database,
        blobs,
        fetcher,
        config.media_ttl,
        LinkMetrics(metrics),
        clock,
        fetch_timeout=config.link_timeout,
    )
    scenarios = ScenarioBook(
        load_scenario_file(config.scenarios) if config.scenarios else [], database
    )
    await scenarios.reload()
    lifecycle = Lifecycle(database, clock, scenarios, status_payload)
    dispatcher = Dispatcher(
        database, clock, retry_for=config.webhook_retry_for, timeout=config.webhook_timeout
    )
    lifecycle.on_webhooks = dispatcher.wake
    media_checks = MediaChecks(database, blobs, links, lifecycle, clock)
    lifecycle.on_recheck = media_checks.recheck
    throughput = Throughput(buckets)
    return Runtime(
        config=config,
        database=database,
        admin_token=admin_token,
        default_channel_id=default.phone_number_id,
        channel_defaults=defaults,
        blobs=blobs,
        url_secret=secret,
        upload_limiter=PerChannelLimit(buckets, "media-upload", config.media_upload_rate),
        media_checks=media_checks,
        sender=Sender(database, clock, lifecycle, media_checks, throughput),
        metrics=metrics,
        clock=clock,
        scenarios=scenarios,
        lifecycle=lifecycle,
        dispatcher=dispatcher,
        customers=Customers(
            database, clock, CustomerFiles(database, blobs), secret, dispatcher.wake
        ),
        buckets=buckets,
        throughput=throughput,
    )


async def _clock(database: Database, mode: str) -> Clock:
    if mode == "real":
        return Clock("real")
    if mode != "virtual":
        raise ValueError(f"WABOX_CLOCK must be real or virtual, got {mode!r}")
    stored = await get_setting(database, VIRTUAL_NOW)
    clock = Clock("virtual", float(stored) if stored is not None else None)
    await put_setting(database, VIRTUAL_NOW, repr(clock.now()))

    async def follow(arg: str) -> None:
        """Another process advanced the clock (or, ``EVERYTHING``, may have)."""
        if arg == EVERYTHING:
            found = await get_setting(database, VIRTUAL_NOW)
            if found is not None:
                clock.catch_up(float(found))
        else:
            clock.catch_up(float(arg))

    database.signals.subscribe("clock", follow)
    return clock


async def _default_channel(
    database: Database, api_key: str | None, settings: ChannelSettings
) -> Channel:
    registry = database.channels
    recorded = await get_setting(database, DEFAULT_CHANNEL)
    if recorded and registry.get(recorded) is None:
        await registry.load()  # made by another process after this one loaded the registry
    channel = registry.get(recorded) if recorded else None
    if channel is None:
        taken = await registry.by_api_key(api_key) if api_key else None
        channel = taken or await registry.create(
            ChannelCreate(api_key=api_key, name="default", settings=settings)
        )
        await put_setting(database, DEFAULT_CHANNEL, channel.phone_number_id)
    elif api_key and channel.api_key != api_key:
        channel = await registry.set_api_key(channel, api_key)
    return channel
