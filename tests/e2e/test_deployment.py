"""Deploying many processes: ``wabox migrate``, ``--no-migrate``, ``--workers``, ``--role``,
and the health endpoints orchestrators ask (``/livez``, ``/readyz``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

from tests.conftest import SUITE_ENV, Server
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, message, stored
from tests.postgres import POSTGRES_URL, fresh_database
from wabox.store.database import head_revision


def wabox(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wabox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SUITE_ENV, **env},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """What a refused start printed: exactly one line, no traceback."""
    printed = (result.stdout + result.stderr).strip()
    assert "Traceback" not in printed, printed
    assert len(printed.splitlines()) == 1, printed
    return printed


@contextlib.contextmanager
def started(tmp_path: Path, name: str, **env: str) -> Iterator[Server]:
    server = Server(data_dir=tmp_path / name / "data", env={**SUITE_ENV, **env})
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_wabox_migrate_then_serve_without_migrating(tmp_path: Path) -> None:
    with fresh_database() as url:
        refused = wabox("serve", "--no-migrate", "--port", "1", WABOX_DATABASE_URL=url)
        assert refused.returncode == 2
        assert "no wabox schema yet: run `wabox migrate` first" in one_line(refused)

        migrated = wabox("migrate", WABOX_DATABASE_URL=url)
        assert migrated.returncode == 0, migrated
        assert f"from revision (empty) to {head_revision()}" in migrated.stdout
        assert "***@" in migrated.stdout  # the URL is shown without its user
        again = wabox("migrate", WABOX_DATABASE_URL=url)
        assert again.returncode == 0, again
        assert f"at revision {head_revision()} already" in again.stdout

        with started(tmp_path, "a", WABOX_DATABASE_URL=url, WABOX_MIGRATE="0") as server:
            assert httpx.get(f"{server.base_url}/readyz").json()["status"] == "ready"


def test_a_newer_schema_is_refused_by_serve_and_by_migrate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert wabox("migrate", "--data-dir", str(data)).returncode == 0
    with sqlite3.connect(data / "wabox.sqlite3") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (["serve", "--port", "1"], ["migrate"]):
        refused = wabox(*command, "--data-dir", str(data))
        assert refused.returncode == 2, refused
        assert "schema (revision 9999) is newer than this wabox" in one_line(refused)


def test_an_older_schema_is_refused_without_migrating(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert wabox("migrate", "--data-dir", str(data)).returncode == 0
    with sqlite3.connect(data / "wabox.sqlite3") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0007'")
    refused = wabox("serve", "--no-migrate", "--port", "1", "--data-dir", str(data))
    assert refused.returncode == 2
    assert "is older than this wabox" in one_line(refused)


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    refused = wabox("serve", "--workers", "2", "--port", "1", "--data-dir", str(tmp_path))
    assert refused.returncode == 2
    assert "several workers need a database they can share" in one_line(refused)
    bad_role = wabox("serve", "--role", "cook", "--port", "1", "--data-dir", str(tmp_path))
    assert bad_role.returncode == 2
    assert "WABOX_ROLE must be one of all, api, worker" in one_line(bad_role)


def test_livez_and_readyz_follow_the_database(tmp_path: Path) -> None:
    with fresh_database() as url:
        name = url.rsplit("/", 1)[1]
        with started(tmp_path, "a", WABOX_DATABASE_URL=url) as server:
            assert httpx.get(f"{server.base_url}/livez").json() == {"status": "ok"}
            ready = httpx.get(f"{server.base_url}/readyz")
            assert ready.status_code == 200
            assert ready.json() == {
                "status": "ready",
                "checks": {"database": "ok", "schema": "ok", "workers": "ok"},
            }
            asyncio.run(
                admin(
                    f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}'",
                )
            )
            try:
                down = eventually(
                    lambda: (
                        httpx.get(f"{server.base_url}/readyz", timeout=5)
                        if httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 503
                        else None
                    )
                )
                assert down.json()["status"] == "not ready"
                assert down.json()["checks"]["database"].startswith("unreachable")
                live = httpx.get(f"{server.base_url}/livez")
                assert live.status_code == 200  # the process runs: no restart needed
            finally:
                asyncio.run(admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            assert eventually(
                lambda: httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
            )


async def admin(*statements: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def test_api_processes_accept_and_worker_processes_deliver(
    tmp_path: Path, receiver: Receiver
) -> None:
    with fresh_database() as url:
        shared = {"WABOX_DATABASE_URL": url, "WABOX_MEDIA_URL": str(tmp_path / "media")}
        with (
            started(tmp_path, "api", WABOX_ROLE="api", **shared) as api,
            started(tmp_path, "worker", WABOX_ROLE="worker", **shared) as worker,
        ):
            assert httpx.get(f"{api.base_url}/readyz").json()["checks"] == {
                "database": "ok",
                "schema": "ok",
            }
            assert httpx.get(f"{worker.base_url}/readyz").json()["checks"]["workers"] == "ok"
            with api.admin() as client:
                created = client.post(
                    "/sandbox/channels",
                    json={"settings": {"webhook": {"url": receiver.url}, "read_after": 0.1}},
                )
            channel = created.json()
            key = {"D360-API-KEY": channel["api_key"]}
            wamids = []
            for n in range(20):
                sent = httpx.post(
                    f"{api.base_url}/messages", json=message("text", {"body": f"{n}"}), headers=key
                )
                assert sent.status_code == 200, sent.text
                wamids.append(sent.json()["messages"][0]["id"])
            # Only the worker runs the lifecycle and the dispatcher: it did all of it.
            for wamid in wamids:
                eventually(lambda w=wamid: receiver.statuses(w) == ["sent", "delivered", "read"])
            assert stored(api, wamids[-1])["state"] == "read"
            # A worker-only process serves what orchestrators ask, and nothing else.
            refused = httpx.post(
                f"{worker.base_url}/messages", json=message("text", {"body": "x"}), headers=key
            )
            assert refused.status_code == 404
            assert httpx.get(f"{worker.base_url}/metrics").status_code == 200


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_workers_share_one_port(tmp_path: Path, receiver: Receiver) -> None:
    workers = 2
    with (
        fresh_database() as url,
        started(tmp_path, "a", WABOX_DATABASE_URL=url, WABOX_WORKERS=str(workers)) as server,
    ):
        assert server.process is not None
        serving = [
            child
            for child in children(server.process.pid)
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        ]
        assert len(serving) == workers
        assert "Admin token" in server.output()  # one banner, from the supervisor
        assert server.output().count("is ready") == 1
        with server.admin() as client:
            created = client.post(
                "/sandbox/channels",
                json={"settings": {"webhook": {"url": receiver.url}, "read_after": 0.1}},
            )
        key = {"D360-API-KEY": created.json()["api_key"]}
        wamids = []
        with httpx.Client(base_url=server.base_url, headers=key) as client:
            for n in range(40):
                sent = client.post("/messages", json=message("text", {"body": f"{n}"}))
                wamids.append(sent.json()["messages"][0]["id"])
        for wamid in wamids:
            eventually(lambda w=wamid: receiver.statuses(w) == ["sent", "delivered", "read"])
