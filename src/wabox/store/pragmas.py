"""The SQLite connection settings every connection of ours uses, whatever opened it."""

from __future__ import annotations

from typing import Any


def sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str = "FULL") -> None:
    """Also an SQLAlchemy ``connect`` event listener, hence the unused second argument.

    WAL lets readers run beside the single writer. ``FULL`` makes each commit survive a
    power cut; the writer's own connection uses ``NORMAL`` because it syncs the WAL itself
    before it answers anyone (``sqlite_writer``).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
