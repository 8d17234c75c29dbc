"""The lifecycle's queries: claim due messages, write their steps with their webhooks.

A step's state change, its event and its webhooks (the outbox rows) are written in one
transaction, so a crash loses none of them and never sends a webhook for a change that
did not happen. On PostgreSQL due rows are claimed with ``FOR UPDATE SKIP LOCKED``, so
several processes share the work without doing a step twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from wabox.errors import GraphError
from wabox.store import leases
from wabox.store.tables import messages

if TYPE_CHECKING:
    from wabox.store.database import Database

FINAL_STATES = ("failed", "read", "played")
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class DueMessage:
    wamid: str
    channel_id: str
    recipient: str
    type: str
    state: str
    next_step: str | None
    biz_opaque_callback_data: str | None
    payload: str
    due_at: float | None = None
    category: str | None = None  # pricing, decided at accept (delivery/window.py)
    pricing_type: str | None = None


@dataclass(slots=True)
class Step:
    """What one message's step writes: its new state and next step, events and webhooks."""

    message: DueMessage
    state: str
    next_step: str | None = None
    due_at: float | None = None
    events: list[tuple[str, float, GraphError | None]] = field(default_factory=list)
    webhooks: list[tuple[str, bytes]] = field(default_factory=list)  # (event, payload)
    leased_until: float | None = None  # a media check in progress (real time, leases.py)
    recheck: bool = False  # a media check whose lease ran out: run it again
    unknown_channel: bool = False  # its channel is not in this process's registry yet


Plan = Callable[[Sequence[DueMessage], float], list[Step]]

_COLUMNS = (
    messages.c.wamid,
    messages.c.channel_id,
    messages.c.recipient,
    messages.c.type,
    messages.c.state,
    messages.c.next_step,
    messages.c.biz_opaque_callback_data,
    messages.c.payload,
    messages.c.due_at,
    messages.c.category,
    messages.c.pricing_type,
)


def _due(row: Any) -> DueMessage:
    return DueMessage(*row)


async def advance_due(database: Database, now: float, limit: int, plan: Plan) -> list[Step]:
    """Claim up to ``limit`` messages whose next step is due, plan and write their steps.

    Not waiting for the disk: a step lost in a crash is due again and redone, at worst
    sending its webhook twice.
    """
    steps: list[Step] = await database.writer.run(
        functools.partial(_advance_due, now=now, limit=limit, plan=plan), durable=False
    )
    if steps:
        database.signals.publish("messages")
    return steps


def _advance_due(connection: sa.Connection, now: float, limit: int, plan: Plan) -> list[Step]:
    query = (
        sa.select(*_COLUMNS)
        .where(messages.c.due_at <= now, leases.free(messages.c.leased_until, leases.wall()))
        .order_by(messages.c.due_at)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = [_due(row) for row in connection.execute(query)]
    if not rows:
        return []
    steps = plan(rows, now)
    write_steps(connection, steps, now)
    return steps


def failure_json(error: GraphError | None) -> str | None:
    """How an event keeps its failure: the code, title and details the sandbox API shows."""
    if error is None:
        return None
    return _encoder.encode(
        {"code": error.code, "title": error.title, "details": error.details}
    ).decode()


def event_rows(step: Step) -> list[dict[str, Any]]:
    return [
        {
            "wamid": step.message.wamid,
            "status": status,
            "created_at": at,
            "details": failure_json(error),
        }
        for status, at, error in step.events
    ]


def delivery_rows(step: Step, now: float) -> list[dict[str, Any]]:
    return [
        {
            "channel_id": step.message.channel_id,
            "wamid": step.message.wamid,
            "event": event,
            "payload": payload.decode(),
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event, payload in step.webhooks
    ]


def write_steps(connection: sa.Connection, steps: Sequence[Step], now: float) -> None:
    """Executemany at the driver: SQLAlchemy's per-row parameter handling cost more than
    the statements themselves in a burst of steps (bench/README.md, Webhooks)."""
    if not steps:
        return
    execute_many(
        connection,
        "UPDATE messages SET state = {}, next_step = {}, due_at = {}, leased_until = {} "
        "WHERE wamid = {}",
        [(s.state, s.next_step, s.due_at, s.leased_until, s.message.wamid) for s in steps],
    )
    events = [
        (s.message.wamid, status, at, failure_json(error))
        for s in steps
        for status, at, error in s.events
    ]
    if events:
        execute_many(
            connection,
            "INSERT INTO message_events (wamid, status, created_at, details) "
            "VALUES ({}, {}, {}, {})",
            events,
        )
    deliveries = [
        (s.message.channel_id, s.message.wamid, event, payload.decode(), "pending", 0, now, now)
        for s in steps
        for event, payload in s.webhooks
    ]
    if deliveries:
        execute_many(
            connection,
            "INSERT INTO webhook_deliveries (channel_id, wamid, event, payload, state, attempts, "
            "next_attempt_at, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
            deliveries,
        )


def execute_many(connection: sa.Connection, template: str, rows: list[tuple[Any, ...]]) -> None:
    """``template`` with ``{}`` for each parameter, in the driver's own placeholder style."""
    count = template.count("{}")
    style = connection.dialect.paramstyle
    if style == "qmark":
        marks = ["?"] * count
    elif style == "numeric_dollar":
        marks = [f"${n}" for n in range(1, count + 1)]
    elif style == "format":
        marks = ["%s"] * count
    else:
        raise NotImplementedError(f"paramstyle {style}")
    connection.exec_driver_sql(template.format(*marks), rows)


async def fail_unsent(
    database: Database, wamid: str, now: float, plan: Callable[[DueMessage], Step]
) -> bool:
    """Write the step ``plan`` makes of the message if it is still ``accepted`` (not sent
    yet), in one transaction with the row locked; False if it was not."""

    def write(connection: sa.Connection) -> bool:
        query = sa.select(*_COLUMNS).where(
            messages.c.wamid == wamid, messages.c.state == "accepted"
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            return False
        write_steps(connection, [plan(_due(row))], now)
        return True

    failed = bool(await database.writer.run(write))
    if failed:
        database.signals.publish("messages")
    return failed


async def release_checked(database: Database, wamid: str, now: float) -> bool:
    """The media passed: the message may be sent now."""

    def write(connection: sa.Connection) -> int:
        return connection.execute(
            sa.update(messages)
            .where(messages.c.wamid == wamid, messages.c.next_step == "check")
            .values(next_step="sent", due_at=now, leased_until=None)
        ).rowcount

    return bool(await database.writer.run(write))


async def schedule_read(database: Database, wamid: str, now: float) -> bool:
    """Make ``read`` the next step, now (the sandbox's "the customer opened it")."""

    def write(connection: sa.Connection) -> int:
        return connection.execute(
            sa.update(messages)
            .where(messages.c.wamid == wamid, messages.c.state.in_(("sent", "delivered")))
            .values(next_step="read", due_at=now)
        ).rowcount

    return bool(await database.writer.run(write))


async def next_due_at(database: Database) -> tuple[float | None, float | None]:
    """When the next unleased step is due (the platform's clock), and when the first lease
    of a step in progress ends (real time): the worker wakes at whichever comes first."""
    wall = leases.wall()
    async with database.engine.connect() as connection:
        due = await connection.scalar(
            sa.select(messages.c.due_at)
            .where(messages.c.due_at.is_not(None), leases.free(messages.c.leased_until, wall))
            .order_by(messages.c.due_at)
            .limit(1)
        )
        lease_end = await connection.scalar(
            sa.select(sa.func.min(messages.c.leased_until)).where(
                messages.c.leased_until.is_not(None), messages.c.leased_until > wall
            )
        )
    return (
        None if due is None else float(due),
        None if lease_end is None else float(lease_end),
    )
