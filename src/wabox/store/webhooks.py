"""The webhook outbox's queries: claim deliveries in order, record attempts, the log."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from wabox.schema.sandbox import WebhookAttempt, WebhookDelivery
from wabox.store import leases
from wabox.store.tables import webhook_attempts, webhook_deliveries

if TYPE_CHECKING:
    from wabox.store.database import Database

# Written as a literal, not a bound parameter: SQLite uses a partial index (state =
# 'pending') only when the query's own term is that same literal.
PENDING = webhook_deliveries.c.state == sa.literal_column("'pending'")
UNLEASED = webhook_deliveries.c.leased_until.is_(None)  # with PENDING: the claimable index
LEASED = webhook_deliveries.c.leased_until.is_not(None)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    channel_id: str
    wamid: str | None
    payload: str
    attempts: int
    created_at: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """One POST's result; ``next_attempt_at`` None with ``delivered`` False means dead."""

    id: int
    at: float
    url: str
    http_status: int | None
    latency_ms: float
    error: str | None
    delivered: bool
    next_attempt_at: float | None


def _earlier_pending() -> sa.ColumnElement[bool]:
    """Per message, a delivery waits until every earlier one is acknowledged (or dead)."""
    earlier = webhook_deliveries.alias("earlier")
    return sa.or_(
        webhook_deliveries.c.wamid.is_(None),
        ~sa.exists().where(
            earlier.c.wamid == webhook_deliveries.c.wamid,
            earlier.c.state == sa.literal_column("'pending'"),
            earlier.c.id < webhook_deliveries.c.id,
        ),
    )


def _channels_with_due(connection: sa.Connection, now: float) -> list[str]:
    """Every channel with a due webhook; a full look, for channels no longer configured."""
    due = sa.and_(PENDING, webhook_deliveries.c.next_attempt_at <= now)
    rows = connection.execute(sa.select(webhook_deliveries.c.channel_id).where(due).distinct())
    return [row[0] for row in rows]


def _claimable(
    connection: sa.Connection, where: tuple[sa.ColumnElement[bool], ...], limit: int
) -> list[Claimed]:
    query = (
        sa.select(
            webhook_deliveries.c.id,
            webhook_deliveries.c.channel_id,
            webhook_deliveries.c.wamid,
            webhook_deliveries.c.payload,
            webhook_deliveries.c.attempts,
            webhook_deliveries.c.created_at,
        )
        .where(*where)
        .order_by(webhook_deliveries.c.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=webhook_deliveries)
    return [Claimed(*row) for row in connection.execute(query)]


def _claim(
    connection: sa.Connection, now: float, rooms: dict[str, int], lease: float
) -> list[Claimed]:
    """Due webhooks of the channels in ``rooms``, at most ``rooms[channel]`` each, oldest
    first; each claimed one is leased for ``lease`` real seconds so no other round (or
    process) takes it before its POST has had time to end."""
    claimed: list[Claimed] = []
    wall = leases.wall()
    # POSTs whose lease ended unfinished (a process died mid-POST) become claimable again,
    # found through the index of leased rows. The claim itself walks the index of claimable
    # rows only, never past the POSTs other processes have in flight.
    connection.execute(
        sa.update(webhook_deliveries)
        .where(LEASED, webhook_deliveries.c.leased_until <= wall, PENDING)
        .values(leased_until=None)
    )
    for channel_id, room in rooms.items():
        if room <= 0:
            continue
        rows = _claimable(
            connection,
            (
                webhook_deliveries.c.channel_id == channel_id,
                PENDING,
                UNLEASED,
                webhook_deliveries.c.next_attempt_at <= now,
                _earlier_pending(),
            ),
            room,
        )
        if rows:
            connection.execute(
                sa.update(webhook_deliveries)
                .where(webhook_deliveries.c.id.in_([row.id for row in rows]))
                .values(leased_until=wall + lease)
            )
            claimed.extend(rows)
    return claimed


def _record(connection: sa.Connection, outcomes: Sequence[Outcome]) -> None:
    connection.execute(
        sa.insert(webhook_attempts),
        [
            {
                "delivery_id": o.id,
                "at": o.at,
                "url": o.url,
                "http_status": o.http_status,
                "latency_ms": o.latency_ms,
                "error": o.error,
            }
            for o in outcomes
        ],
    )
    connection.execute(
        sa.update(webhook_deliveries)
        .where(webhook_deliveries.c.id == sa.bindparam("i"))
        .values(
            state=sa.bindparam("s"),
            attempts=webhook_deliveries.c.attempts + 1,
            next_attempt_at=sa.bindparam("n"),
            leased_until=None,
            delivered_at=sa.bindparam("d"),
            last_error=sa.bindparam("e"),
        ),
        [
            {
                "i": o.id,
                "s": "delivered" if o.delivered else "pending" if o.next_attempt_at else "dead",
                "n": None if o.delivered else o.next_attempt_at,
                "d": o.at if o.delivered else None,
                "e": None if o.delivered else o.error or f"HTTP {o.http_status}",
            }
            for o in outcomes
        ],
    )


async def channels_with_due(database: Database, now: float) -> list[str]:
    """Channels with a webhook due, whatever their settings say now."""
    return await database.writer.run(functools.partial(_channels_with_due, now=now))


async def claim(
    database: Database, now: float, rooms: dict[str, int], lease: float
) -> list[Claimed]:
    """Claim due webhooks, at most ``rooms[channel]`` per channel, each with a lease.

    Not waiting for the disk: a claim lost in a crash only makes webhooks due again.
    """
    return await database.writer.run(
        functools.partial(_claim, now=now, rooms=rooms, lease=lease), durable=False
    )


async def record(database: Database, outcomes: Sequence[Outcome]) -> None:
    """Write delivery results; one lost in a crash means one more delivery, never a loss."""
    await database.writer.run(functools.partial(_record, outcomes=outcomes), durable=False)
    database.signals.publish("messages")


async def finish(
    database: Database, outcomes: Sequence[Outcome], unfinished: Sequence[int], now: float
) -> None:
    """At shutdown: write the results, and give unfinished claims back so they are due
    at once again, in one transaction."""

    def write(connection: sa.Connection) -> None:
        if outcomes:
            _record(connection, outcomes)
        _release(connection, unfinished, now)

    await database.writer.run(write)


def _release(connection: sa.Connection, ids: Sequence[int], now: float) -> None:
    if ids:
        connection.execute(
            sa.update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(list(ids)), webhook_deliveries.c.state == "pending")
            .values(next_attempt_at=now, leased_until=None)
        )


async def next_attempt_after(database: Database, now: float) -> tuple[float | None, float | None]:
    """When a pending webhook next becomes due (those due already wait for an event), and
    when the first lease of a POST in flight ends (real time; another process's, if it
    died, is taken over then)."""
    wall = leases.wall()
    async with database.engine.connect() as connection:
        due = await connection.scalar(
            sa.select(sa.func.min(webhook_deliveries.c.next_attempt_at)).where(
                PENDING, webhook_deliveries.c.next_attempt_at > now
            )
        )
        lease_end = await connection.scalar(
            sa.select(sa.func.min(webhook_deliveries.c.leased_until)).where(
                webhook_deliveries.c.leased_until.is_not(None),
                webhook_deliveries.c.leased_until > wall,
            )
        )
    return (
        None if due is None else float(due),
        None if lease_end is None else float(lease_end),
    )


async def last_delivered(database: Database, channel_id: str) -> str | None:
    """The payload of the channel's latest delivered webhook (a replay probe sends it)."""
    async with database.engine.connect() as connection:
        found: str | None = await connection.scalar(
            sa.select(webhook_deliveries.c.payload)
            .where(
                webhook_deliveries.c.channel_id == channel_id,
                webhook_deliveries.c.state == "delivered",  # probes are kept as "probe"
            )
            .order_by(webhook_deliveries.c.id.desc())
            .limit(1)
        )
    return found


async def record_probe(
    database: Database,
    *,
    channel_id: str,
    kind: str,
    payload: str,
    outcome: Outcome,
    verdict: str,
    now: float,
) -> int:
    """A probe in the webhook log: state ``probe``, never claimed by the dispatcher, with
    its one attempt and, as ``last_error``, the verdict."""

    def write(connection: sa.Connection) -> int:
        delivery_id = connection.execute(
            sa.insert(webhook_deliveries)
            .values(
                channel_id=channel_id,
                wamid=None,
                event=f"probe:{kind}",
                payload=payload,
                state="probe",
                attempts=1,
                next_attempt_at=None,
                created_at=now,
                delivered_at=now,
                last_error=verdict,
            )
            .returning(webhook_deliveries.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(webhook_attempts).values(
                delivery_id=delivery_id,
                at=outcome.at,
                url=outcome.url,
                http_status=outcome.http_status,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
            )
        )
        return int(delivery_id)

    recorded = int(await database.writer.run(write))
    database.signals.publish("messages")
    return recorded


async def redeliver(database: Database, delivery_id: int, now: float) -> bool:
    def write(connection: sa.Connection) -> int:
        return connection.execute(
            sa.update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.state != "probe")
            .values(state="pending", next_attempt_at=now, delivered_at=None)
        ).rowcount

    return bool(await database.writer.run(write))


async def list_deliveries(
    database: Database,
    *,
    channel: str | None = None,
    wamid: str | None = None,
    state: str | None = None,
    event: str | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Newest first, each with its attempts."""
    query = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id.desc()).limit(limit)
    if channel is not None:
        query = query.where(webhook_deliveries.c.channel_id == channel)
    if wamid is not None:
        query = query.where(webhook_deliveries.c.wamid == wamid)
    if state is not None:
        query = query.where(webhook_deliveries.c.state == state)
    if event is not None:
        query = query.where(webhook_deliveries.c.event == event)
    async with database.snapshot() as connection:
        rows = (await connection.execute(query)).all()
        attempts: dict[int, list[WebhookAttempt]] = {row.id: [] for row in rows}
        if rows:
            found = await connection.execute(
                sa.select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(list(attempts)))
                .order_by(webhook_attempts.c.id)
            )
            for a in found:
                attempts[a.delivery_id].append(
                    WebhookAttempt(
                        at=a.at,
                        url=a.url,
                        http_status=a.http_status,
                        latency_ms=a.latency_ms,
                        error=a.error,
                    )
                )
    return [_delivery(row, attempts[row.id]) for row in rows]


def _delivery(row: Any, attempts: list[WebhookAttempt]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        channel=row.channel_id,
        message_id=row.wamid,
        event=row.event,
        state=row.state,
        attempts=attempts,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        payload=msgspec.json.decode(row.payload),
    )
