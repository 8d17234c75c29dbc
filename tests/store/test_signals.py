"""Signals between processes on one PostgreSQL database: LISTEN/NOTIFY, real connections.

Two ``Signals`` stand for two processes; each has its own listening connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.helpers import aeventually
from tests.postgres import fresh_database
from wabox.store.signals import EVERYTHING, MAX_PENDING, Signals

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def dsn() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
async def pair(dsn: str) -> AsyncIterator[tuple[Signals, Signals]]:
    a, b = Signals(dsn), Signals(dsn)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


def recorder(signals: Signals, topic: str) -> list[str]:
    heard: list[str] = []
    signals.subscribe(topic, heard.append)
    return heard


async def test_a_signal_reaches_this_process_at_once_and_the_other_soon(
    pair: tuple[Signals, Signals],
) -> None:
    a, b = pair
    here, there = recorder(a, "channel"), recorder(b, "channel")
    a.publish("channel", "1555")
    assert here == ["1555"]  # synchronously, before anything is sent
    await aeventually(lambda: there == ["1555"])
    await asyncio.sleep(0.1)
    assert here == ["1555"]  # its own notification came back, and was skipped
    assert (a.received, b.received) == (0, 1)


async def test_here_and_others_choose_who_hears(pair: tuple[Signals, Signals]) -> None:
    a, b = pair
    here, there = recorder(a, "due"), recorder(b, "due")
    a.publish("due", others=False)
    a.publish("due", "x", here=False)
    await aeventually(lambda: there == ["x"])
    assert here == [""]


async def test_signals_that_pile_up_are_sent_once_in_one_round_trip(
    pair: tuple[Signals, Signals],
) -> None:
    a, b = pair
    there = recorder(b, "messages")
    for _ in range(1000):
        a.publish("messages", "1555")
    a.publish("messages", "1666")
    await aeventually(lambda: there == ["1555", "1666"])
    await asyncio.sleep(0.1)
    assert there == ["1555", "1666"]


async def test_an_async_subscriber_runs_as_a_task(pair: tuple[Signals, Signals]) -> None:
    a, b = pair
    done = asyncio.Event()

    async def reload(arg: str) -> None:
        await asyncio.sleep(0)
        done.set()

    b.subscribe("scenarios", reload)
    a.publish("scenarios")
    await asyncio.wait_for(done.wait(), 5)


async def test_after_a_lost_connection_everyone_rereads_and_nothing_sent_is_lost(
    dsn: str, pair: tuple[Signals, Signals]
) -> None:
    a, b = pair
    there = recorder(b, "channel")
    heard_by_a = recorder(a, "channel")
    admin = await asyncpg.connect(dsn)
    try:
        # Cut every listening connection, as a PostgreSQL restart or a network cut would.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        a.publish("channel", "1777")  # while a's connection may be down: kept, sent later
        await aeventually(lambda: EVERYTHING in there and EVERYTHING in heard_by_a)
        await aeventually(lambda: "1777" in there)
    finally:
        await admin.close()


async def test_too_many_while_disconnected_becomes_one_reread_of_everything(
    pair: tuple[Signals, Signals],
) -> None:
    a, b = pair
    there = recorder(b, "media")
    for n in range(MAX_PENDING + 5):
        a.publish("media", f"1555/{n}", here=False)
    await aeventually(lambda: EVERYTHING in there)
    assert len(there) < 10


async def test_without_a_database_signals_stay_in_this_process() -> None:
    local = Signals()
    heard = recorder(local, "clock")
    await local.start()
    local.publish("clock", "12.5")
    assert heard == ["12.5"]
    assert not local.shared
    await local.close()


async def test_watching_sets_an_event_while_the_block_runs() -> None:
    local = Signals()
    with local.watching("messages", "channel") as changed:
        local.publish("channel", "1555")
        assert changed.is_set()
    changed.clear()
    local.publish("messages")
    assert not changed.is_set()
