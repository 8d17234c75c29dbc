"""Opening the database: engine, SQLite pragmas, migrations on start."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from wabox.store import leases
from wabox.store.channels import ChannelRegistry
from wabox.store.conversations import OpenWindows
from wabox.store.links import FreshLinks
from wabox.store.media import LiveMediaCache
from wabox.store.pragmas import sqlite_pragmas
from wabox.store.signals import EVERYTHING, Signals
from wabox.store.sqlite_writer import SqliteWriter
from wabox.store.writer import GroupCommitWriter, Writer

MIGRATIONS = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """Accept plain ``sqlite:///`` / ``postgresql://`` URLs and pick the async driver."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


def _writer_pragmas(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record, synchronous="NORMAL")


def create_writer(url: str, engine: AsyncEngine) -> Writer:
    """SQLite gets its own writer on a synchronous engine; servers get group commit."""
    url = async_url(url)
    if not url.startswith("sqlite+aiosqlite"):
        return GroupCommitWriter(engine)
    sync_engine = sa.create_engine(
        url.replace("sqlite+aiosqlite", "sqlite+pysqlite", 1), poolclass=sa.pool.StaticPool
    )
    sa.event.listen(sync_engine, "connect", _writer_pragmas)
    return SqliteWriter(sync_engine)


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=4, max_overflow=4)
        sa.event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _alembic(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: sa.Connection) -> None:
    command.upgrade(_alembic(connection), "head")


class SchemaProblem(RuntimeError):
    """The database's schema is not the one this wabox works with; the message says what
    to do, in one line."""


@functools.cache
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once per process (``/readyz`` asks often)."""
    return ScriptDirectory.from_config(_alembic())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def _revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at; None when wabox never migrated it."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revision)


def schema_problem(current: str | None, *, migrating: bool) -> str | None:
    """What is wrong with a database at ``current`` for this wabox, or None. ``migrating``:
    the caller is about to migrate, so only a schema newer than this wabox is wrong."""
    script = _scripts()
    head = head_revision()
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            return (
                f"the database's schema (revision {current}) is newer than this wabox "
                f"(revision {head}): upgrade wabox, or use another database"
            )
    if migrating or current == head:
        return None
    if current is None:
        return "the database has no wabox schema yet: run `wabox migrate` first"
    return (
        f"the database's schema (revision {current}) is older than this wabox (revision "
        f"{head}): run `wabox migrate` first"
    )


# pg_advisory_lock's keys: start-up is one bigint of our own ("wabox" in ASCII); the
# two-part keys (namespace, id) name one thing of a kind, e.g. the bytes of one hash.
START_LOCK = 0x7761626F78
BLOB_LOCKS = 0x776278  # ("wbx"): one lock per content hash
SWEEP_LOCK = 0x7773  # ("ws"): the media sweeper


def _key(*parts: int) -> tuple[str, dict[str, int]]:
    names = ", ".join(f":k{n}" for n in range(len(parts)))
    return names, {f"k{n}": part for n, part in enumerate(parts)}


@contextlib.asynccontextmanager
async def advisory_lock(engine: AsyncEngine, *key: int) -> AsyncIterator[None]:
    """Every process on one PostgreSQL database takes turns here (a session advisory
    lock). SQLite serves exactly one process: nothing to wait for."""
    if engine.dialect.name != "postgresql":
        yield
        return
    names, values = _key(*key)
    async with engine.connect() as connection:
        await connection.execute(sa.text(f"SELECT pg_advisory_lock({names})"), values)
        try:
            yield
        finally:
            await connection.execute(sa.text(f"SELECT pg_advisory_unlock({names})"), values)


@contextlib.asynccontextmanager
async def unless_elsewhere(engine: AsyncEngine, *key: int) -> AsyncIterator[bool]:
    """Yields True when no other process holds the lock (taking it), False if one does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    names, values = _key(*key)
    async with engine.connect() as connection:
        taken = await connection.scalar(sa.text(f"SELECT pg_try_advisory_lock({names})"), values)
        try:
            yield bool(taken)
        finally:
            if taken:
                await connection.execute(sa.text(f"SELECT pg_advisory_unlock({names})"), values)


def one_at_a_time(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[None]:
    """Processes starting together on one PostgreSQL database take turns here, so
    migrations and what a first start generates happen once and every process reads the
    same."""
    return advisory_lock(engine, START_LOCK)


async def migrate(engine: AsyncEngine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; safe to run on every start, by any number
    of processes at once. Returns the revisions before and after."""
    async with one_at_a_time(engine), engine.begin() as connection:
        before = await connection.run_sync(_revision)
        if (problem := schema_problem(before, migrating=True)) is not None:
            raise SchemaProblem(problem)
        await connection.run_sync(_upgrade)
    return before, head_revision()


async def check_schema(engine: AsyncEngine) -> None:
    """Refuse a database this wabox cannot work on as it is (``migrate=False``)."""
    if (problem := schema_problem(await schema_revision(engine), migrating=False)) is not None:
        raise SchemaProblem(problem)


class Database:
    """The engine, its single writer, the store's caches and the signals that keep them
    right in every process, opened and closed together.

    Each cache has one owner here and is invalidated only by the store functions that
    change what it remembers: the channel registry (channels), ``LiveMediaCache``
    (``store/media.py``), ``FreshLinks`` (``store/links.py``) and ``OpenWindows``
    (``store/conversations.py``). Deleting a channel clears what every cache holds of it.
    Those functions publish what they changed (``signals``), and every other process on
    the database drops the same entries within milliseconds.
    """

    def __init__(
        self, engine: AsyncEngine, writer: Writer | None = None, signals: Signals | None = None
    ) -> None:
        self.engine = engine
        self.writer = writer or GroupCommitWriter(engine)
        self.signals = signals or Signals()
        self.live_media = LiveMediaCache()
        self.fresh_links = FreshLinks(self.live_media)
        self.open_windows = OpenWindows()
        self.channels = ChannelRegistry(
            engine, self.writer, self.signals, on_deleted=self._channel_deleted
        )
        self.signals.subscribe("media", self._media_changed)

    def _media_changed(self, arg: str) -> None:
        """Media deleted or expired early, here or in another process."""
        channel_id, _, media_id = arg.partition("/")
        if arg == EVERYTHING or not media_id:
            self.live_media.clear()
        else:
            self.live_media.forget(channel_id, media_id)

    def _channel_deleted(self, channel_id: str) -> None:
        """Its rows went by cascade; so does what the caches remember of them."""
        self.live_media.forget_channel(channel_id)
        self.fresh_links.forget_channel(channel_id)
        self.open_windows.forget_channel(channel_id)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def one_at_a_time(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Start-up work that must happen once however many processes start (``runtime``)."""
        return one_at_a_time(self.engine)

    def holding_blob(self, sha256: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Across processes, "is anyone using these bytes? then delete them" and "insert my
        row, then move my bytes in" take turns per content hash (``media/ingest.py``)."""
        return advisory_lock(self.engine, BLOB_LOCKS, int(sha256[:8], 16) - 2**31)

    def sweeping(self) -> contextlib.AbstractAsyncContextManager[bool]:
        """True for the one process that sweeps now; the others skip this round."""
        return unless_elsewhere(self.engine, SWEEP_LOCK)

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read connection whose statements all see one moment, for reads that span
        several tables (a message with its events): the writer commits between awaits."""
        if self.dialect == "postgresql":
            async with self.engine.connect() as connection:
                repeatable = await connection.execution_options(isolation_level="REPEATABLE READ")
                async with repeatable.begin():
                    yield repeatable
            return
        async with self.engine.connect() as connection:
            # pysqlite opens no transaction for a SELECT; an explicit one pins the WAL snapshot.
            await connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                await connection.rollback()

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> Database:
        """``migrate_schema=False``: refuse (``SchemaProblem``) a database not migrated to
        this wabox's schema, for deployments that run ``wabox migrate`` first."""
        engine = create_engine(url)
        try:
            if migrate_schema:
                await migrate(engine)
            else:
                await check_schema(engine)
        except BaseException:
            await engine.dispose()
            raise
        signals = Signals(listen_dsn(engine) if engine.dialect.name == "postgresql" else None)
        database = cls(engine, create_writer(url, engine), signals)
        database.writer.start()
        try:
            if database.dialect == "sqlite":  # one process only: what is leased, a crash left
                await database.writer.run(leases.release_all)
            await signals.start()  # listening before loading: no change falls in between
            await database.channels.load()
        except BaseException:
            await database.close()
            raise
        return database

    async def close(self) -> None:
        """Commit what is queued, tell other processes, then release every connection."""
        await self.writer.close()
        await self.signals.close()
        await self.engine.dispose()


def listen_dsn(engine: AsyncEngine) -> str:
    """The engine's PostgreSQL URL as asyncpg's own ``connect`` takes it."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
