"""The single writer: every write of this process goes through one queue and one task.

Requests that arrive while a transaction commits wait in the queue and are committed
together in the next one (group commit), so durability costs one fsync per batch rather
than one per request. One writer also means SQLite never sees two writers of ours at once.
Callers await their item's future, which resolves only after the COMMIT returned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")


@dataclass(slots=True)
class _Insert:
    """Rows for tables, inserted in this order; batched with neighbours of the same table."""

    rows: Sequence[tuple[sa.Table, dict[str, Any]]]
    done: asyncio.Future[None]


@dataclass(slots=True)
class _Run:
    """An arbitrary write, run alone in its own transaction."""

    fn: Callable[[AsyncConnection], Awaitable[Any]]
    done: asyncio.Future[Any]


class WriterClosed(RuntimeError):
    """The writer stopped; the item was not committed."""


class GroupCommitWriter:
    def __init__(self, engine: AsyncEngine, max_batch: int = 1024) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Insert | _Run | None] = asyncio.Queue()
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

    async def insert(self, rows: Sequence[tuple[sa.Table, dict[str, Any]]]) -> None:
        """Insert ``rows`` atomically; returns once they are committed."""
        self._check_open()
        item = _Insert(rows, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(item)
        await item.done

    async def run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``fn`` in its own transaction on the writer; returns its result after COMMIT."""
        self._check_open()
        item = _Run(fn, asyncio.get_running_loop().create_future())
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
                    await self._commit(batch)
                    batch = []
                    await self._run_one(item)
                    continue
                batch.append(item)
            if batch:
                await self._commit(batch)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item.done.done():
                item.done.set_exception(WriterClosed("the database writer stopped"))

    async def _run_one(self, item: _Run) -> None:
        try:
            async with self._engine.begin() as connection:
                result = await item.fn(connection)
        except Exception as exc:
            item.done.set_exception(exc)
        else:
            item.done.set_result(result)

    async def _commit(self, batch: list[_Insert]) -> None:
        try:
            async with self._engine.begin() as connection:
                for table, rows in _group(batch):
                    await connection.execute(table.insert(), rows)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].done.done():
                    batch[0].done.set_exception(exc)
                return
            # One bad item must not sink its neighbours: retry each alone so only it fails.
            for item in batch:
                await self._commit([item])
            return
        self.batches += 1
        for item in batch:
            self.rows += len(item.rows)
            if not item.done.done():
                item.done.set_result(None)


def _group(batch: list[_Insert]) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    """Merge consecutive rows of the same table into one executemany, keeping order.

    Within one item rows keep their order (a message before its first event); across items
    the first table seen goes first, which holds the same dependency order for every item.
    """
    order: list[sa.Table] = []
    by_table: dict[sa.Table, list[dict[str, Any]]] = {}
    for item in batch:
        for table, row in item.rows:
            if table not in by_table:
                order.append(table)
                by_table[table] = []
            by_table[table].append(row)
    return [(table, by_table[table]) for table in order]
