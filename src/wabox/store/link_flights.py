"""Link fetches in flight across processes: claim one, finish it, read how it ended.

A process about to fetch a link claims its (channel, URL, kind) row. The claim succeeds
when there is no row, when the last flight finished (its result has been read by those
who waited: a new miss fetches again), or when its lease ended without a result (the
process fetching it died). Whoever does not get the claim waits for the row to finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from wabox.store import leases
from wabox.store.links import url_key
from wabox.store.tables import link_flights

if TYPE_CHECKING:
    from wabox.store.database import Database

KEEP_FINISHED = 3600.0  # real seconds a finished flight's row stays for late readers


@dataclass(frozen=True, slots=True)
class Flight:
    """Where a flight is: ``running``, ``abandoned`` (nobody has it: claim it), or
    ``finished`` with its result; ``failure`` (reason, details, status) if it failed."""

    state: Literal["running", "abandoned", "finished"]
    media_id: str | None = None
    outcome: str | None = None
    origin_status: int | None = None
    elapsed: float | None = None
    failure: tuple[str, str, int | None] | None = None


def flight_name(channel_id: str, url: str, kind: str) -> str:
    """The flight's name in signals: what a waiting process listens for."""
    return f"{channel_id}/{url_key(url)}/{kind}"


def _where(channel_id: str, url: str, kind: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        link_flights.c.channel_id == channel_id,
        link_flights.c.url_key == url_key(url),
        link_flights.c.kind == kind,
    )


async def claim_flight(
    database: Database, channel_id: str, url: str, kind: str, lease: float
) -> bool:
    """Take the flight for ``lease`` real seconds; False while another process has it."""
    wall = leases.wall()
    insert = postgresql.insert(link_flights).values(
        channel_id=channel_id, url_key=url_key(url), kind=kind, leased_until=wall + lease
    )
    claim = insert.on_conflict_do_update(
        index_elements=[link_flights.c.channel_id, link_flights.c.url_key, link_flights.c.kind],
        set_={
            "leased_until": wall + lease,
            "finished_at": None,
            "media_id": None,
            "outcome": None,
            "origin_status": None,
            "elapsed": None,
            "failure": None,
        },
        where=sa.or_(link_flights.c.finished_at.is_not(None), link_flights.c.leased_until <= wall),
    ).returning(link_flights.c.kind)

    def write(connection: sa.Connection) -> bool:
        return connection.execute(claim).first() is not None

    return bool(await database.writer.run(write, durable=False))


async def finish_flight(
    database: Database,
    channel_id: str,
    url: str,
    kind: str,
    *,
    media_id: str | None = None,
    outcome: str | None = None,
    origin_status: int | None = None,
    elapsed: float | None = None,
    failure: tuple[str, str, int | None] | None = None,
) -> None:
    values = {
        "finished_at": leases.wall(),
        "media_id": media_id,
        "outcome": outcome,
        "origin_status": origin_status,
        "elapsed": elapsed,
        "failure": None if failure is None else msgspec.json.encode(failure).decode(),
    }

    def write(connection: sa.Connection) -> None:
        connection.execute(
            sa.update(link_flights).where(_where(channel_id, url, kind)).values(**values)
        )

    await database.writer.run(write)


async def flight_result(database: Database, channel_id: str, url: str, kind: str) -> Flight:
    """Where the flight is; ``abandoned`` when its lease ended unfinished or its row is
    gone."""
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(sa.select(link_flights).where(_where(channel_id, url, kind)))
        ).first()
    if row is None:
        return Flight("abandoned")
    if row.finished_at is None:
        return Flight("running" if row.leased_until > leases.wall() else "abandoned")
    failure = None
    if row.failure is not None:
        reason, details, status = msgspec.json.decode(row.failure)
        failure = (str(reason), str(details), None if status is None else int(status))
    return Flight("finished", row.media_id, row.outcome, row.origin_status, row.elapsed, failure)


async def remove_old_flights(database: Database) -> int:
    """Finished flights nobody can still be waiting for (the sweeper)."""
    old = leases.wall() - KEEP_FINISHED

    def write(connection: sa.Connection) -> int:
        query = sa.delete(link_flights).where(
            sa.or_(link_flights.c.finished_at < old, link_flights.c.leased_until < old)
        )
        return connection.execute(query).rowcount

    return int(await database.writer.run(write))
