"""Start-up is safe in any number: processes started together on one fresh PostgreSQL
database all come up and agree on what the first start generates (the admin token, the
URL secret that signs download URLs, the default channel and its API key)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx

from tests.conftest import RELAXED_CHANNELS, Server
from tests.postgres import fresh_database
from wabox.samples import sample_path

ROUNDS = 5
PROCESSES = 5


def banner(server: Server, label: str) -> str:
    found = re.search(rf"^  {label} +(\S+)$", server.output(), re.M)
    assert found is not None, server.output()
    return found[1]


def test_processes_started_together_agree(tmp_path: Path) -> None:
    picture = sample_path("image.jpg").read_bytes()
    for round_ in range(ROUNDS):
        with fresh_database() as url, contextlib.ExitStack() as stack:
            env = {
                "WABOX_DATABASE_URL": url,
                "WABOX_MEDIA_URL": str(tmp_path / f"media{round_}"),  # one folder, shared
                "WABOX_CHANNEL_DEFAULTS": RELAXED_CHANNELS,
            }
            servers = [
                Server(data_dir=tmp_path / f"r{round_}" / f"p{n}" / "data", env=env)
                for n in range(PROCESSES)
            ]
            for server in servers:  # all at once: nobody has migrated or generated anything
                server.launch()
                stack.callback(server.stop)
            for server in servers:
                server.wait_ready()

            for label in ("Admin token", "API key", "phone_number_id"):
                values = {banner(server, label) for server in servers}
                assert len(values) == 1, (round_, label, values)
            token, key = banner(servers[0], "Admin token"), banner(servers[0], "API key")
            for server in servers:
                listed = httpx.get(
                    f"{server.base_url}/sandbox/channels",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert listed.status_code == 200, listed.text
                assert len(listed.json()["channels"]) == 1, listed.json()

            # A download URL one process signs is honoured by every other.
            first = servers[0].base_url
            uploaded = httpx.post(
                f"{first}/media",
                headers={"D360-API-KEY": key},
                data={"messaging_product": "whatsapp"},
                files={"file": ("a.jpg", picture, "image/jpeg")},
            )
            assert uploaded.status_code == 200, uploaded.text
            media_id = uploaded.json()["id"]
            info = httpx.get(f"{first}/{media_id}", headers={"D360-API-KEY": key}).json()
            signed = httpx.URL(info["url"])
            for server in servers[1:]:
                got = httpx.get(
                    f"{server.base_url}{signed.raw_path.decode()}", headers={"D360-API-KEY": key}
                )
                assert got.status_code == 200, (server.base_url, got.text)
                assert got.content == picture
