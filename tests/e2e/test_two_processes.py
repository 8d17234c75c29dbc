"""Two wabox processes on one PostgreSQL database: a channel made through one is served
by both. A message's steps and webhooks may be claimed by either process, and a process
that has not seen a channel yet learns it from the database: "not in my memory" never
means "deleted"."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SUITE_ENV, Server
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, message
from tests.postgres import fresh_database

MESSAGES = 30


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with fresh_database() as url, contextlib.ExitStack() as stack:
        env = {**SUITE_ENV, "WABOX_DATABASE_URL": url, "WABOX_MEDIA_URL": str(tmp_path / "media")}
        one, two = (Server(data_dir=tmp_path / name / "data", env=env) for name in ("a", "b"))
        for server in (one, two):
            server.launch()
            stack.callback(server.stop)
        for server in (one, two):
            server.wait_ready()
        yield one, two


def test_a_channel_made_through_one_process_is_served_by_both(
    pair: tuple[Server, Server], receiver: Receiver
) -> None:
    one, two = pair
    with two.admin() as admin:  # made through the second, after both have started
        created = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": receiver.url}, "read_after": 0.2}},
        )
    assert created.status_code == 201, created.text
    channel = created.json()
    key = {"D360-API-KEY": channel["api_key"]}
    wamids = []
    for n in range(MESSAGES):
        sent = httpx.post(
            f"{two.base_url}/messages", json=message("text", {"body": f"m{n}"}), headers=key
        )
        assert sent.status_code == 200, sent.text
        wamids.append(sent.json()["messages"][0]["id"])

    # Both lifecycles claim due steps; the first one to meet the channel reads it.
    for wamid in wamids:
        eventually(lambda w=wamid: receiver.statuses(w) == ["sent", "delivered", "read"])
    with one.admin() as admin:
        hooks = admin.get(
            "/sandbox/webhooks", params={"channel": channel["phone_number_id"], "limit": "1000"}
        ).json()["deliveries"]
        assert len(hooks) == 3 * MESSAGES
        assert {hook["state"] for hook in hooks} == {"delivered"}, hooks

        # The first process answers for the channel too.
        listed = admin.get("/sandbox/channels").json()["channels"]
        assert channel["phone_number_id"] in {c["phone_number_id"] for c in listed}
        renamed = admin.patch(
            f"/sandbox/channels/{channel['phone_number_id']}", json={"name": "made on b"}
        )
        assert renamed.status_code == 200, renamed.text
        inbound = admin.post(
            "/sandbox/inbound",
            json={
                "channel": channel["phone_number_id"],
                "from": "16505550999",
                "text": {"body": "hi"},
            },
        )
        assert inbound.status_code == 200, inbound.text
    eventually(lambda: receiver.inbound(inbound.json()["id"]) is not None)
