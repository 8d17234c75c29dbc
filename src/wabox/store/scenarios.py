"""Scenario rules set through the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
import sqlalchemy as sa

from wabox.schema.scenarios import Scenario
from wabox.store.tables import scenarios

if TYPE_CHECKING:
    from wabox.store.database import Database

_decoder = msgspec.json.Decoder(Scenario)


async def stored_scenarios(database: Database) -> list[Scenario]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            sa.select(scenarios.c.spec).order_by(scenarios.c.created_at, scenarios.c.id)
        )
        return [_decoder.decode(row.spec) for row in rows]


async def add_scenario(database: Database, scenario: Scenario, now: float) -> None:
    spec = msgspec.json.encode(scenario).decode()

    def write(connection: sa.Connection) -> None:
        connection.execute(sa.insert(scenarios).values(id=scenario.id, spec=spec, created_at=now))

    await database.writer.run(write)
    database.signals.publish("scenarios", here=False)  # the book here reloads itself


async def delete_scenario(database: Database, scenario_id: str | None = None) -> int:
    """Delete one rule, or all of them (``None``)."""

    def write(connection: sa.Connection) -> int:
        query = sa.delete(scenarios)
        if scenario_id is not None:
            query = query.where(scenarios.c.id == scenario_id)
        return connection.execute(query).rowcount

    deleted: int = await database.writer.run(write)
    if deleted:
        database.signals.publish("scenarios", here=False)  # the book here reloads itself
    return deleted
