"""The single writer of a process, for servers reached over the network (PostgreSQL).

Requests that arrive while a transaction commits wait in the queue and are committed
together in the next one (group commit), so durability costs one commit per batch rather
than one per request. Callers await their item's future, which resolves only after COMMIT.
The embedded SQLite database has its own writer with the same interface
(``sqlite_writer.SqliteWriter``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
Work = Callable[[sa.Connection], T]
Rows = Sequence[tuple[sa.Table, dict[str, Any]]]
Groups = list[tuple[sa.Table, list[dict[str, Any]]]]


class Writer(Protocol):
    """What the store's query functions need from a writer."""

    batches: int
    rows: int

    def start(self) -> None: ...

    async def close(self) -> None: ...

    async def insert(self, rows: Rows) -> None: ...

    async def run(self, work: Work[T], *, durable: bool = True) -> T:
        """``durable=False``: return after COMMIT without waiting for the disk, for writes a
        crash may lose because they are redone (leases, webhook results, lifecycle steps)."""
        ...


class WriterClosed(RuntimeError):
    """The writer stopped; the item was not committed."""


@dataclass(slots=True)
class Insert:
    """Rows for tables, inserted in this order; batched with neighbours of the same table."""

    rows: Rows
    done: asyncio.Future[None]


@dataclass(slots=True)
class _Run:
    """An arbitrary write, run alone in its own transaction."""

    work: Work[Any]
    done: asyncio.Future[Any]
    durable: bool = True


class GroupCommitWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 1024) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Insert | _Run | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="wabox-writer")

    async def close(self) -> None:
        """Commit everything already queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def insert(self, rows: Rows) -> None:
        """Insert ``rows`` atomically; returns once they are committed."""
        self._check_open()
        item = Insert(rows, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(item)
        await item.done

    async def run(self, work: Work[T], *, durable: bool = True) -> T:
        """Run ``work`` in its own transaction on the writer; returns its result after COMMIT."""
        self._check_open()
        item = _Run(work, asyncio.get_running_loop().create_future(), durable)
        self._queue.put_nowait(item)
        result: T = await item.done
        return result

    def _check_open(self) -> None:
        if self._task is None or self._task.done():
            raise WriterClosed("the database writer is not running")

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            if isinstance(first, _Run):
                await self._run_one(first)
                continue
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                if isinstance(item, _Run):
                    if batch:
                        await self._commit(batch)
                    batch = []
                    await self._run_one(item)
                    continue
                batch.append(item)
            if batch:
                await self._commit(batch)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                settle(item.done, WriterClosed("the database writer stopped"))

    async def _run_one(self, item: _Run) -> None:
        try:
            async with self._engine.begin() as connection:
                if not item.durable and connection.dialect.name == "postgresql":
                    await connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                result = await connection.run_sync(item.work)
        except Exception as exc:
            settle(item.done, exc)
        else:
            settle(item.done, None, result)

    async def _commit(self, batch: list[Insert]) -> None:
        def work(connection: sa.Connection) -> None:
            for table, rows in group_rows(batch):
                connection.execute(table.insert(), rows)

        try:
            async with self._engine.begin() as connection:
                await connection.run_sync(work)
        except Exception as exc:
            if len(batch) == 1:
                settle(batch[0].done, exc)
                return
            # One bad item must not sink its neighbours: retry each alone so only it fails.
            for item in batch:
                await self._commit([item])
            return
        self.batches += 1
        for item in batch:
            self.rows += len(item.rows)
            settle(item.done, None)


def settle(future: asyncio.Future[Any], exc: BaseException | None, result: Any = None) -> None:
    """Resolve a caller's future unless the caller already went away (cancelled)."""
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def group_rows(batch: list[Insert]) -> Groups:
    """Merge the rows of a batch per table, parents before children.

    Within one item rows keep their order; the tables go in foreign-key dependency order,
    so an item that adds children to an earlier item's parent (a media outcome recorded
    after its message) and an item with both (a message with its outcomes) can share a batch.
    """
    by_table: dict[sa.Table, list[dict[str, Any]]] = {}
    for item in batch:
        for table, row in item.rows:
            by_table.setdefault(table, []).append(row)
    if len(by_table) <= 1:
        return list(by_table.items())
    rank = _dependency_rank(next(iter(by_table)).metadata)
    return sorted(by_table.items(), key=lambda group: rank[group[0]])


@functools.cache
def _dependency_rank(metadata: sa.MetaData) -> dict[sa.Table, int]:
    return {table: n for n, table in enumerate(metadata.sorted_tables)}
