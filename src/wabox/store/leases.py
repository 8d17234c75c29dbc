"""Leases on claimed work, always on real time.

A claimed job (a media check, a webhook POST) is not claimed again until its lease ends,
so a process that dies mid-job loses nothing: another takes the job over afterwards.
The lease measures how long the job may really take, so it runs on the wall clock even
when the platform's clock is virtual: advancing virtual time by an hour must not expire
the lease of a POST still in flight.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from wabox.store.tables import messages, webhook_deliveries


def wall() -> float:
    return time.time()


def look_by(poll: float | None, lease_end: float | None) -> float | None:
    """Real seconds a worker may sleep: ``poll`` at the latest, and no later than just past
    the first lease to end (its job is claimable again then)."""
    if lease_end is None:
        return poll
    until = max(0.0, lease_end - wall()) + 0.02
    return until if poll is None else min(poll, until)


def free(column: sa.Column[float | None], at: float) -> sa.ColumnElement[bool]:
    """Not leased, or the lease has ended by ``at``."""
    return sa.or_(column.is_(None), column <= at)


def release_all(connection: sa.Connection) -> None:
    """End every lease: for a database only this process uses (SQLite), at start, so
    what a crashed predecessor had claimed is due at once, not after its lease."""
    for table in (messages, webhook_deliveries):
        connection.execute(
            sa.update(table).where(table.c.leased_until.is_not(None)).values(leased_until=None)
        )
