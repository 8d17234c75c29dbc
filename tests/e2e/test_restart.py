"""Durability: what got a 200 is there after a crash, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import API_KEY, Server, running_server
from tests.helpers import message


def _send_many(server: Server, count: int) -> list[str]:
    client = httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": API_KEY}, timeout=30)

    def send(n: int) -> str | None:
        body = message("text", {"body": f"n={n}"}, to=f"1650555{n:04d}")
        response = client.post("/messages", json=body)
        return response.json()["messages"][0]["id"] if response.status_code == 200 else None

    with client, ThreadPoolExecutor(16) as pool:
        sent = list(pool.map(send, range(count)))
    assert None not in sent
    return [wamid for wamid in sent if wamid is not None]


def _stored_wamids(server: Server) -> set[str]:
    with server.admin() as admin:
        found = admin.get("/sandbox/messages", params={"limit": 1000}).json()["messages"]
    return {m["wamid"] for m in found}


def _crash_and_restart(server: Server) -> None:
    sent = _send_many(server, 400)
    server.kill()
    server.start()
    stored = _stored_wamids(server)
    assert set(sent) <= stored, f"{len(set(sent) - stored)} accepted messages lost"


def test_sigkill_loses_no_accepted_message_sqlite(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        _crash_and_restart(server)


def test_sigkill_loses_no_accepted_message_postgresql(tmp_path: Path) -> None:
    with running_server(tmp_path, database="postgresql") as server:
        _crash_and_restart(server)
        assert "postgresql" in server.output()


def test_generated_key_and_token_survive_restarts(tmp_path: Path) -> None:
    # nothing fixed: both are generated on the first start
    with running_server(tmp_path, defaults=False) as server:
        first = server.output()
        token = _banner_value(first, "Admin token")
        key = _banner_value(first, "API key")
        pnid = _banner_value(first, "phone_number_id")
        server.env = {"WABOX_ADMIN_TOKEN": token}
        server.stop()
        server.env = {}
        server.start()
        second = server.output()
        assert _banner_value(second, "Admin token") == token
        assert _banner_value(second, "API key") == key
        assert _banner_value(second, "phone_number_id") == pnid
        response = httpx.post(
            f"{server.base_url}/v21.0/{pnid}/messages",
            json=message("text", {"body": "x"}),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200
        server.stop()
        server.env = {"WABOX_API_KEY": "a-new-fixed-key-9"}
        server.start()
        assert _banner_value(server.output(), "API key") == "a-new-fixed-key-9"
        assert _banner_value(server.output(), "phone_number_id") == pnid
        old = httpx.post(
            f"{server.base_url}/messages",
            json=message("text", {"body": "x"}),
            headers={"D360-API-KEY": key},
        )
        assert old.status_code == 401


def _banner_value(output: str, label: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith(label):
            return line.strip().removeprefix(label).strip()
    raise AssertionError(f"{label!r} not in banner:\n{output}")


def test_banner_shows_both_dialects(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        output = server.output()
    pnid = _banner_value(output, "phone_number_id")
    assert f"{server.base_url}/v21.0/{pnid}/messages" in output
    assert f"{server.base_url}/messages" in output
    assert _banner_value(output, "API key") == API_KEY
    assert _banner_value(output, "Display number").startswith("+1555")
    assert (tmp_path / "data" / "wabox.sqlite3").exists()
    assert (tmp_path / "data" / "media").is_dir()
