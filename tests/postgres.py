"""A fresh PostgreSQL database per use, on the loopback server CI starts.

Without a reachable server these tests skip, unless ``WABOX_REQUIRE_POSTGRES`` is set (as
``.ci/run`` does), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import pytest

POSTGRES_URL = os.environ.get(
    "WABOX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _admin(sql: str | None) -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        if sql is not None:
            await connection.execute(sql)
    finally:
        await connection.close()
    return True


def require_postgres() -> None:
    if asyncio.run(_admin(None)):
        return
    if os.environ.get("WABOX_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    require_postgres()
    name = f"wabox_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
