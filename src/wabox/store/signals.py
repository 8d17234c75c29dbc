"""Wake-ups and invalidations shared by every process on one database.

A process says what changed with ``publish(topic, arg)``. Its own subscribers hear it at
once; on PostgreSQL every other process hears it within milliseconds through one
``LISTEN``/``NOTIFY`` channel, so PostgreSQL stays the one source of truth and the one
wake-up channel: no broker, no home-made coordination. On SQLite only one process serves
the database, and publishing stays local.

What crosses between processes is a hint, never the state itself: a subscriber reads
what it needs from the database. Notifications are sent after the change committed,
coalesced (one ``NOTIFY`` round trip carries all that piled up in ``GAP`` seconds), and
kept while the connection is down. After every (re)connect each subscriber hears
``EVERYTHING``, since what happened while nobody listened is unknown; the lifecycle and
the webhook dispatcher also look for work every second, so a lost wake-up delays work by
a second at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

log = logging.getLogger("wabox.signals")

CHANNEL = "wabox"
EVERYTHING = "*"  # the arg a subscriber hears when anything under its topic may have changed
GAP = 0.02  # seconds a notification may wait for others to share its round trip
MAX_PENDING = 10_000  # more piled up while disconnected: everyone re-reads everything
RECONNECT = (0.2, 5.0)  # the first and the longest wait between connection attempts

Subscriber = Callable[[str], Awaitable[None] | None]


class Signals:
    """``dsn``: a PostgreSQL URL for asyncpg to listen on; None keeps signals local."""

    def __init__(self, dsn: str | None = None) -> None:
        self._dsn = dsn
        self._origin = secrets.token_hex(6)  # our own notifications come back: skipped
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)
        self._pending: dict[str, None] = {}  # payloads to send, in order, once each
        self._ready = asyncio.Event()
        self._connected = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._flushing = False
        self.received = 0  # notifications heard from other processes

    @property
    def shared(self) -> bool:
        """Whether other processes hear what this one publishes."""
        return self._dsn is not None

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        """Call ``subscriber(arg)`` whenever ``topic`` is published here or elsewhere; an
        awaitable it returns is run as a task."""
        self._subscribers[topic].append(subscriber)

    @contextlib.contextmanager
    def watching(self, *topics: str) -> Iterator[asyncio.Event]:
        """An event set whenever one of ``topics`` is published, while the block runs."""
        event = asyncio.Event()

        def seen(_arg: str) -> None:
            event.set()

        for topic in topics:
            self._subscribers[topic].append(seen)
        try:
            yield event
        finally:
            for topic in topics:
                self._subscribers[topic].remove(seen)

    def publish(self, topic: str, arg: str = "", *, here: bool = True, others: bool = True) -> None:
        """After a change committed: tell this process now (``here``), others soon
        (``others``)."""
        if here:
            self._dispatch(topic, arg)
        if others and self._dsn is not None:
            if len(self._pending) >= MAX_PENDING:
                self._pending = {f"{self._origin} {EVERYTHING} ": None}
            self._pending[f"{self._origin} {topic} {arg}"] = None
            self._ready.set()

    async def start(self) -> None:
        """Listen, on PostgreSQL; returns once listening (or raises if it cannot connect)."""
        if self._dsn is None:
            return
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="wabox-signals")
        connected = asyncio.get_running_loop().create_task(self._connected.wait())
        done, _ = await asyncio.wait({connected, self._runner}, return_when="FIRST_COMPLETED")
        if self._runner in done:
            connected.cancel()
            self._runner.result()  # raises what stopped it

    async def close(self) -> None:
        """Send what is pending (briefly), then stop listening."""
        if self._runner is not None:
            if self._pending and self._connected.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._drained(), 1.0)
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drained(self) -> None:
        while self._pending or self._flushing:
            await asyncio.sleep(GAP)

    def _dispatch(self, topic: str, arg: str) -> None:
        topics = list(self._subscribers) if topic == EVERYTHING else [topic]
        for name in topics:
            for subscriber in self._subscribers.get(name, ()):
                try:
                    result = subscriber(EVERYTHING if topic == EVERYTHING else arg)
                except Exception:
                    log.exception("a subscriber of %r failed", name)
                    continue
                if inspect.isawaitable(result):
                    task = asyncio.get_running_loop().create_task(_logged(name, result))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        origin, _, rest = payload.partition(" ")
        if origin == self._origin:
            return
        topic, _, arg = rest.partition(" ")
        self.received += 1
        self._dispatch(topic, arg)

    async def _run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]  # SQLAlchemy's PostgreSQL driver

        wait = RECONNECT[0]
        first = True
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                if first:
                    raise
                log.warning("signals: cannot reach PostgreSQL (%s); again in %.1f s", exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RECONNECT[1])
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(functools.partial(_set, lost))
            try:
                await connection.add_listener(CHANNEL, self._heard)
                wait = RECONNECT[0]
                self._connected.set()
                if not first:
                    log.info("signals: listening again")
                # Whatever changed while nobody here listened (or before the first listen)
                # is unknown: every subscriber reads again.
                self._dispatch(EVERYTHING, EVERYTHING)
                first = False
                await self._send(connection, lost)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("signals: connection lost (%s); reconnecting", exc)
            finally:
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(connection.close(timeout=1))

    async def _send(self, connection: Any, lost: asyncio.Event) -> None:
        """Send pending notifications until the connection is lost."""
        while not lost.is_set():
            if not self._pending:
                self._ready.clear()
                waiter = asyncio.get_running_loop().create_task(self._ready.wait())
                gone = asyncio.get_running_loop().create_task(lost.wait())
                await asyncio.wait({waiter, gone}, return_when="FIRST_COMPLETED")
                waiter.cancel()
                gone.cancel()
                continue
            await asyncio.sleep(GAP)
            batch, self._pending = list(self._pending), {}
            self._flushing = True
            try:
                await connection.execute(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                    CHANNEL,
                    batch,
                )
            except BaseException:
                self._pending = {**dict.fromkeys(batch), **self._pending}  # sent later
                raise
            finally:
                self._flushing = False


def _set(event: asyncio.Event, _connection: Any) -> None:
    event.set()


async def _logged(topic: str, work: Awaitable[None]) -> None:
    try:
        await work
    except Exception:
        log.exception("a subscriber of %r failed", topic)
