"""The store on both engines: migrations, group commit, channels, messages, media rows."""

from __future__ import annotations

import dataclasses
import functools
import time

import anyio
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.store.rows import accept
from wabox.schema.sandbox import ChannelCreate
from wabox.store.channels import ChannelConflict
from wabox.store.database import MIGRATIONS, Database
from wabox.store.links import MediaOutcomeRow, record_media_outcome
from wabox.store.media import insert_media, media_is_live
from wabox.store.messages import clear_messages, insert_accepted, list_messages
from wabox.store.settings import get_setting, put_setting
from wabox.store.tables import messages, metadata
from wabox.store.writer import WriterClosed

pytestmark = pytest.mark.anyio


async def test_migrations_are_idempotent(database: Database) -> None:
    from wabox.store.database import migrate

    await migrate(database.engine)
    async with database.engine.connect() as connection:
        version = await connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


async def test_migrations_build_exactly_the_declared_tables(database: Database) -> None:
    """What Alembic would autogenerate against ``tables.py`` after all migrations: nothing."""

    def differences(connection: sa.Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        return list(compare_metadata(context, metadata))

    async with database.engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []


async def test_concurrent_inserts_share_commits(database: Database) -> None:
    channel = await database.channels.create(ChannelCreate())
    batches_before = database.writer.batches
    async with anyio.create_task_group() as group:
        for n in range(300):
            group.start_soon(accept, database, channel.phone_number_id, n)
    found = await list_messages(database, channel=channel.phone_number_id, limit=1000)
    assert len(found) == 300
    batches = database.writer.batches - batches_before
    assert batches < 100, f"300 concurrent inserts took {batches} commits"
    assert all(m.events[0].status == "accepted" for m in found)


async def test_a_failing_item_does_not_sink_its_batch(database: Database) -> None:
    channel = await database.channels.create(ChannelCreate())

    async def duplicate() -> None:
        await accept(database, channel.phone_number_id, 1)

    await accept(database, channel.phone_number_id, 1)
    results: list[str] = []

    async def good(n: int) -> None:
        results.append(await accept(database, channel.phone_number_id, n))

    failures: list[BaseException] = []

    async def bad() -> None:
        try:
            await duplicate()
        except sa.exc.IntegrityError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as group:
        for n in range(2, 20):
            group.start_soon(good, n)
        group.start_soon(bad)
        for n in range(20, 40):
            group.start_soon(good, n)
    assert len(failures) == 1
    assert len(results) == 38
    found = await list_messages(database, channel=channel.phone_number_id, limit=100)
    assert len(found) == 39


async def test_channels_registry(database: Database) -> None:
    registry = database.channels
    created = await registry.create(ChannelCreate(api_key="key-one-1234", name="one"))
    assert (await registry.by_api_key("key-one-1234")) == created
    with pytest.raises(ChannelConflict):
        await registry.create(ChannelCreate(api_key="key-one-1234"))
    with pytest.raises(ChannelConflict):
        await registry.create(ChannelCreate(phone_number_id=created.phone_number_id))
    renamed = await registry.set_api_key(created, "key-two-1234")
    assert await registry.by_api_key("key-one-1234") is None
    assert (await registry.by_api_key("key-two-1234")) == renamed
    # A fresh registry (another process) finds the channel through the database.
    other = Database(database.engine)
    assert (await other.channels.by_api_key("key-two-1234")) == renamed
    await accept(database, created.phone_number_id, 7)
    assert await registry.delete(created.phone_number_id)
    assert not await registry.delete(created.phone_number_id)
    async with database.engine.connect() as connection:
        left = await connection.scalar(sa.select(sa.func.count()).select_from(messages))
    assert left == 0, "deleting a channel cascades to its messages"


async def test_settings_and_media_rows(database: Database) -> None:
    assert await get_setting(database, "k") is None
    await put_setting(database, "k", "v1")
    await put_setting(database, "k", "v2")
    assert await get_setting(database, "k") == "v2"
    channel = await database.channels.create(ChannelCreate())
    other = await database.channels.create(ChannelCreate())
    now = time.time()
    await insert_media(
        database,
        media_id="123",
        channel_id=channel.phone_number_id,
        mime_type="image/png",
        sha256="a" * 64,
        file_size=10,
        filename="a.png",
        created_at=now,
        expires_at=now + 60,
    )
    assert await media_is_live(database, channel.phone_number_id, "123", now)
    assert not await media_is_live(database, other.phone_number_id, "123", now)
    assert not await media_is_live(database, channel.phone_number_id, "123", now + 61)


async def test_clear_messages(database: Database) -> None:
    one = await database.channels.create(ChannelCreate())
    two = await database.channels.create(ChannelCreate())
    for n in range(3):
        await accept(database, one.phone_number_id, n)
    await accept(database, two.phone_number_id, 10)
    assert await clear_messages(database, one.phone_number_id) == 3
    assert [m.wamid for m in await list_messages(database)] == ["wamid.test000010"]
    assert await clear_messages(database) == 1


async def test_close_commits_what_is_queued(database: Database) -> None:
    import asyncio

    channel = await database.channels.create(ChannelCreate())
    tasks = [asyncio.create_task(accept(database, channel.phone_number_id, n)) for n in range(50)]
    await asyncio.sleep(0)  # every task has queued its rows; none is committed yet
    await database.writer.close()
    await asyncio.gather(*tasks)
    async with database.engine.connect() as connection:
        count = await connection.scalar(sa.select(sa.func.count()).select_from(messages))
    assert count == 50
    with pytest.raises(WriterClosed):
        await accept(database, channel.phone_number_id, 99)


async def test_children_and_parents_share_a_batch_in_dependency_order(database: Database) -> None:
    """A media outcome for an earlier message, queued before a message with its own outcome:
    one batch, and the parents still go first (foreign keys hold on both engines)."""
    channel = await database.channels.create(ChannelCreate())
    first = await accept(database, channel.phone_number_id, 1)
    batches_before = database.writer.batches
    outcome = MediaOutcomeRow(wamid=first, path="image", outcome="fetched", link="https://x/a")
    async with anyio.create_task_group() as group:
        group.start_soon(record_media_outcome, database, outcome, time.time())
        group.start_soon(
            functools.partial(
                insert_accepted,
                database,
                wamid="wamid.second",
                channel_id=channel.phone_number_id,
                recipient="16505551234",
                type="image",
                payload=b"{}",
                biz_opaque_callback_data=None,
                now=time.time(),
                media=[dataclasses.replace(outcome, wamid="", outcome="cache_hit")],
            )
        )
    assert database.writer.batches - batches_before == 1
    found = {m.wamid: m for m in await list_messages(database, channel=channel.phone_number_id)}
    assert [m.outcome for m in found[first].media] == ["fetched"]
    assert [m.outcome for m in found["wamid.second"].media] == ["cache_hit"]


async def test_runs_back_to_back_between_inserts_keep_the_writer_alive(
    database: Database,
) -> None:
    """Queued as insert, run, run, insert: the group-commit loop must not commit an empty
    batch between the two runs (it once did, and its task died)."""
    channel = await database.channels.create(ChannelCreate())
    results: list[object] = []

    async def run(n: int) -> None:
        results.append(await database.writer.run(lambda connection: n))

    with anyio.fail_after(10):  # a dead writer leaves its callers waiting
        async with anyio.create_task_group() as group:
            group.start_soon(accept, database, channel.phone_number_id, 1)
            group.start_soon(run, 1)
            group.start_soon(run, 2)
            group.start_soon(accept, database, channel.phone_number_id, 2)
    assert sorted(results) == [1, 2]  # type: ignore[type-var]
    assert len(await list_messages(database, channel=channel.phone_number_id)) == 2
    assert await database.writer.run(lambda connection: "still running") == "still running"
