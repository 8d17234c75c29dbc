"""The single writer of the embedded SQLite database: group commit without stalling the loop.

How one batch becomes durable (measured in bench/README.md):

- every insert of one event-loop iteration is gathered by a ``call_soon`` callback and
  written as one multi-row INSERT per table, on the loop thread, on a connection in
  ``synchronous=NORMAL`` mode: the rows reach the WAL file (the OS) in microseconds;
- a helper thread fdatasyncs the WAL file, which is exactly the fsync that
  ``synchronous=FULL`` would do at each commit; one sync covers every batch written
  before it started, and batches keep being written while it runs;
- only then are the callers' futures resolved, so a 200 still means "on disk".

Running the statements on a thread (through aiosqlite, or our own) cost three times as
much: every return from SQLite's C code has to win the GIL back from the busy loop. The
helper thread also runs the WAL checkpoints, which would otherwise stall the loop.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wabox.store.pragmas import sqlite_pragmas
from wabox.store.writer import Groups, Insert, Rows, T, Work, WriterClosed, group_rows, settle

# Checkpoint once the WAL holds this much, from the helper thread.
CHECKPOINT_BYTES = 8 * 1024 * 1024
# SQLite allows 32766 bound variables per statement since 3.32.
MAX_VARIABLES = 32_000


@dataclass(slots=True)
class _Statement:
    sql: str
    params: list[Any]


class SqliteWriter:
    def __init__(self, engine: sa.Engine, checkpoint_bytes: int = CHECKPOINT_BYTES) -> None:
        """``engine`` is a synchronous engine on the same file, for ``run``'s arbitrary work."""
        database = engine.url.database
        assert database is not None
        self._path = database
        self._engine = engine
        self._quote = engine.dialect.identifier_preparer.quote
        self._sql: dict[tuple[str, tuple[str, ...], int], str] = {}
        self._connection: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._pending: list[Insert] = []
        self._flush_scheduled = False
        self._unsynced: list[asyncio.Future[None]] = []
        self._syncing = False
        self._checkpoint_bytes = checkpoint_bytes
        self._syncer = _WalSyncer(self._path, checkpoint_bytes)
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="wabox-wal-sync")
        connection = sqlite3.connect(self._path, isolation_level=None)
        sqlite_pragmas(connection, None, synchronous="NORMAL")
        # Checkpoints run on the helper thread; when one has copied everything, the next
        # write rewinds the WAL and trims the file to this size.
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.execute(f"PRAGMA journal_size_limit={self._checkpoint_bytes // 2}")
        self._connection = connection

    async def close(self) -> None:
        """Write and sync everything already handed over, then stop."""
        if self._loop is None:
            return
        self._flush()
        if self._unsynced or self._syncing:
            await self._durable()
        assert self._thread is not None and self._connection is not None
        self._loop = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._syncer.close)
        self._thread.shutdown(wait=True)
        self._connection.close()
        self._engine.dispose()

    async def insert(self, rows: Rows) -> None:
        """Insert ``rows`` atomically; returns once they are committed and on disk."""
        loop = self._check_open()
        item = Insert(rows, loop.create_future())
        self._pending.append(item)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        await item.done

    async def run(self, work: Work[T], *, durable: bool = True) -> T:
        """Run ``work`` in its own transaction, after the inserts handed over before it;
        ``durable=False`` skips the wait for the WAL's fdatasync (the next durable write
        or checkpoint syncs it)."""
        self._check_open()
        self._flush()
        with self._engine.begin() as connection:
            result = work(connection)
        if durable:
            await self._durable()
        return result

    def _check_open(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise WriterClosed("the database writer is not running")
        return self._loop

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._execute(batch)
        except Exception:
            # One bad item must not sink its neighbours: retry each alone so only it fails.
            for item in batch:
                try:
                    self._execute([item])
                except Exception as exc:
                    settle(item.done, exc)

    def _execute(self, batch: list[Insert]) -> None:
        statements = self._prepare(group_rows(batch))
        assert self._connection is not None
        try:
            if len(statements) == 1:
                self._connection.execute(statements[0].sql, statements[0].params)
            else:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        self._connection.execute(statement.sql, statement.params)
                    self._connection.execute("COMMIT")
                except BaseException:
                    self._connection.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(statements[0].sql, None, exc, sqlite3.Error) from exc
        self.batches += 1
        self.rows += sum(len(item.rows) for item in batch)
        self._unsynced.extend(item.done for item in batch)
        self._start_sync()

    def _prepare(self, groups: Groups) -> list[_Statement]:
        statements: list[_Statement] = []
        for table, rows in groups:
            columns = tuple(rows[0])
            per_statement = max(1, MAX_VARIABLES // len(columns))
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                params = [row[column] for row in chunk for column in columns]
                statements.append(_Statement(self._insert_sql(table, columns, len(chunk)), params))
        return statements

    def _insert_sql(self, table: sa.Table, columns: tuple[str, ...], count: int) -> str:
        key = (table.name, columns, count)
        sql = self._sql.get(key)
        if sql is None:
            names = ", ".join(self._quote(column) for column in columns)
            one = "(" + ", ".join("?" * len(columns)) + ")"
            values = ", ".join([one] * count)
            sql = f"INSERT INTO {self._quote(table.name)} ({names}) VALUES {values}"
            if len(self._sql) > 4096:
                self._sql.clear()
            self._sql[key] = sql
        return sql

    async def _durable(self) -> None:
        """Wait until everything written so far is on disk."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._unsynced.append(done)
        self._start_sync()
        await done

    def _start_sync(self) -> None:
        if self._syncing or not self._unsynced or self._thread is None:
            return
        assert self._loop is not None
        self._syncing = True
        waiting, self._unsynced = self._unsynced, []
        running = self._thread.submit(self._syncer.sync)
        loop = self._loop

        def finished(outcome: ThreadFuture[None]) -> None:
            loop.call_soon_threadsafe(self._synced, outcome, waiting)

        running.add_done_callback(finished)

    def _synced(self, outcome: ThreadFuture[None], waiting: list[asyncio.Future[None]]) -> None:
        self._syncing = False
        # A failed sync means "committed, maybe not on disk": callers must not hear "stored".
        error = outcome.exception()
        for done in waiting:
            settle(done, error)
        self._start_sync()


class _WalSyncer:
    """fdatasync of the WAL (on the sync thread), and checkpoints (on a thread of their own).

    A checkpoint copies megabytes and syncs the database file; on the sync thread it would
    hold back every answer waiting for the next sync.
    """

    def __init__(self, path: str, checkpoint_bytes: int) -> None:
        self._path = path
        self._wal = path + "-wal"
        self._checkpoint_bytes = checkpoint_bytes
        self._fd: int | None = None
        self._connection: sqlite3.Connection | None = None
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="wabox-checkpoint")
        self._checkpointing = threading.Lock()

    def sync(self) -> None:
        fd = self._fd
        if fd is not None and os.fstat(fd).st_ino != _inode(self._wal):
            os.close(fd)
            fd = None
        if fd is None:
            fd = self._fd = os.open(self._wal, os.O_RDONLY)
        os.fdatasync(fd)
        if os.fstat(fd).st_size > self._checkpoint_bytes and self._checkpointing.acquire(
            blocking=False
        ):
            self._checkpointer.submit(self._checkpoint)

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _checkpoint(self) -> None:
        """PASSIVE copies what it can without blocking the writer; once all is copied the
        next write rewinds the WAL."""
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self._path, isolation_level=None)
                sqlite_pragmas(self._connection, None)
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            self._checkpointing.release()

    def close(self) -> None:
        self._checkpointer.submit(self._close_connection).result()
        self._checkpointer.shutdown(wait=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _inode(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return -1
