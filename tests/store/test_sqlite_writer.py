"""The embedded writer's promises: answered only once on disk, one sync for many, checkpoints."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store.rows import accept
from wabox.schema.sandbox import ChannelCreate
from wabox.store import sqlite_writer
from wabox.store.database import Database, create_engine, migrate
from wabox.store.sqlite_writer import SqliteWriter

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _open(path: Path, checkpoint_bytes: int = sqlite_writer.CHECKPOINT_BYTES) -> Database:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    await migrate(engine)
    sync_engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    database = Database(engine, SqliteWriter(sync_engine, checkpoint_bytes))
    database.writer.start()
    await database.channels.load()
    return database


def _count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


async def test_answers_come_after_a_sync_and_syncs_are_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await _open(tmp_path / "w.sqlite3")
    channel = await database.channels.create(ChannelCreate())
    synced_at: list[float] = []
    real_fdatasync = os.fdatasync

    def recording_fdatasync(fd: int) -> None:
        real_fdatasync(fd)
        synced_at.append(time.monotonic())

    monkeypatch.setattr(sqlite_writer.os, "fdatasync", recording_fdatasync)
    answered_at: list[float] = []

    async def one(n: int) -> None:
        await accept(database, channel.phone_number_id, n)
        answered_at.append(time.monotonic())

    await asyncio.gather(*(one(n) for n in range(200)))
    assert len(answered_at) == 200
    assert 1 <= len(synced_at) < 200, "a sync must cover many commits"
    assert all(answer >= synced_at[0] for answer in answered_at)
    await database.close()
    assert _count(tmp_path / "w.sqlite3") == 200


async def test_a_failed_sync_is_an_error_for_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await _open(tmp_path / "w.sqlite3")
    channel = await database.channels.create(ChannelCreate())

    def failing_fdatasync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sqlite_writer.os, "fdatasync", failing_fdatasync)
    with pytest.raises(OSError, match="Input/output error"):
        await accept(database, channel.phone_number_id, 1)
    monkeypatch.undo()
    await accept(database, channel.phone_number_id, 2)
    await database.close()


async def _wal_size_after_3000(path: Path, checkpoint_bytes: int) -> int:
    database = await _open(path, checkpoint_bytes=checkpoint_bytes)
    channel = await database.channels.create(ChannelCreate())
    for start in range(0, 3000, 100):
        await asyncio.gather(
            *(accept(database, channel.phone_number_id, n) for n in range(start, start + 100))
        )
    # A checkpoint may still be running on its thread: wait for what was submitted before.
    writer = database.writer
    assert isinstance(writer, SqliteWriter)
    await asyncio.wrap_future(writer._syncer._checkpointer.submit(lambda: None))
    size = Path(f"{path}-wal").stat().st_size
    await database.close()
    assert _count(path) == 3000
    return size


async def test_checkpoints_keep_the_wal_small_and_lose_nothing(tmp_path: Path) -> None:
    unchecked = await _wal_size_after_3000(tmp_path / "a.sqlite3", 1 << 30)
    checked = await _wal_size_after_3000(tmp_path / "b.sqlite3", 64 * 1024)
    assert checked < unchecked / 2, (checked, unchecked)
