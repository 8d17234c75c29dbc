"""A fresh database per test, on SQLite and, when reachable, on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from wabox.store.database import Database

POSTGRES_URL = os.environ.get(
    "WABOX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


@pytest.fixture(params=["sqlite", "postgresql"])
def anyio_backend_db(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def database(anyio_backend_db: str, tmp_path: Path) -> AsyncIterator[Database]:
    if anyio_backend_db == "sqlite":
        db = await Database.open(f"sqlite:///{tmp_path / 'wabox.sqlite3'}")
        yield db
        await db.close()
        return
    if not await _postgres_available():
        if os.environ.get("WABOX_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"wabox_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = await Database.open(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
        yield db
        await db.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
