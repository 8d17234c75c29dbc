"""Small persisted key/value facts: the admin token, which channel is the default."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wabox.store.tables import settings

if TYPE_CHECKING:
    from wabox.store.database import Database


async def get_setting(database: Database, key: str) -> str | None:
    async with database.engine.connect() as connection:
        value: str | None = await connection.scalar(
            sa.select(settings.c.value).where(settings.c.key == key)
        )
    return value


async def put_setting(database: Database, key: str, value: str) -> None:
    def write(connection: sa.Connection) -> None:
        connection.execute(sa.delete(settings).where(settings.c.key == key))
        connection.execute(sa.insert(settings).values(key=key, value=value))

    await database.writer.run(write)


async def add_to_setting(database: Database, key: str, seconds: float, floor: float) -> float:
    """Add ``seconds`` to a number kept as a setting (at least ``floor`` before), in one
    transaction, so two processes adding at once both count."""

    def write(connection: sa.Connection) -> float:
        query = sa.select(settings.c.value).where(settings.c.key == key)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        stored = connection.scalar(query)
        value = max(float(stored), floor) if stored is not None else floor
        value += seconds
        connection.execute(sa.delete(settings).where(settings.c.key == key))
        connection.execute(sa.insert(settings).values(key=key, value=repr(value)))
        return value

    return float(await database.writer.run(write))


def read_local_setting(sqlite_path: Path, key: str) -> str | None:
    """Read one setting from an embedded database without opening the async engine (CLI)."""
    if not sqlite_path.exists():
        return None
    connection = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None
