"""Locks every process on one PostgreSQL database honours: the bytes of one content hash,
and the media sweeper. Two ``Database`` objects stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.helpers import aeventually
from tests.postgres import fresh_database
from wabox.store.database import Database

pytestmark = pytest.mark.anyio
SHA = "9f" * 32


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_database() as found:
        yield found


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[Database, Database]]:
    one = await Database.open(url)
    other = await Database.open(url)
    yield one, other
    await one.close()
    await other.close()


async def test_one_content_hash_is_held_by_one_process_at_a_time(
    url: str, two: tuple[Database, Database]
) -> None:
    one, other = two
    order: list[str] = []
    async with one.holding_blob(SHA):
        waiting = asyncio.get_running_loop().create_task(_hold(other, SHA, order))
        await aeventually(lambda: _waiting_for_a_lock(url), interval=0.01)
        assert order == []
        order.append("released")
    await asyncio.wait_for(waiting, 5)
    assert order == ["released", "taken"]


async def test_another_content_hash_is_not_held_up(two: tuple[Database, Database]) -> None:
    one, other = two
    order: list[str] = []
    async with one.holding_blob(SHA):
        await asyncio.wait_for(_hold(other, "00" * 32, order), 5)
    assert order == ["taken"]


async def _waiting_for_a_lock(url: str) -> bool:
    """Whether a session waits for an advisory lock (PostgreSQL's view of the locks)."""
    connection = await asyncpg.connect(url)
    try:
        return bool(
            await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
        )
    finally:
        await connection.close()


async def _hold(database: Database, sha256: str, order: list[str]) -> None:
    async with database.holding_blob(sha256):
        order.append("taken")


async def test_one_process_sweeps_at_a_time(two: tuple[Database, Database]) -> None:
    one, other = two
    async with one.sweeping() as mine:
        assert mine
        async with other.sweeping() as theirs:
            assert not theirs
    async with other.sweeping() as theirs:
        assert theirs  # free again once the first is done
