"""Fixtures of the client-library compatibility tests.

Real libraries from PyPI (pywa, heyoo) talk to a real ``wabox serve`` through a recording
pass-through (``tap.py``), so each test can say both what the library concluded and what it
actually put on the wire. Media links are served by a real loopback origin, and webhooks are
received by a real loopback receiver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.compat.tap import Tap, running_tap
from tests.conftest import Server, server_fixture
from tests.delivery.receiver import Received, Receiver
from tests.helpers import eventually, stored
from wabox.samples import sample_path

APP_SECRET = "compat-app-secret-0123456789"
CUSTOMER = "16505551234"
IMAGE: Path = Path(sample_path("image.jpg"))
IMAGE_BYTES = IMAGE.read_bytes()


@dataclass
class Channel:
    phone_number_id: str
    display_phone_number: str
    waba_id: str
    api_key: str


compat_server = server_fixture("compat", WABOX_LINK_ALLOW="127.0.0.1")


@pytest.fixture
def tap(compat_server: Server) -> Iterator[Tap]:
    with running_tap(compat_server.port) as running:
        yield running


@pytest.fixture
def channel(compat_server: Server, receiver: Receiver) -> Channel:
    """A fresh business number per test, its webhook signed with ``APP_SECRET``."""
    return new_channel(compat_server, webhook={"url": receiver.url, "app_secret": APP_SECRET})


def new_channel(server: Server, **settings: Any) -> Channel:
    relaxed = {"enforce_window": False, "throughput": None, "pair_rate_limit": False}
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json={"settings": {**relaxed, **settings}})
    assert response.status_code == 201, response.text
    body = response.json()
    return Channel(
        body["phone_number_id"], body["display_phone_number"], body["waba_id"], body["api_key"]
    )


def wait_for_state(server: Server, wamid: str, states: tuple[str, ...]) -> dict[str, Any]:
    """The stored message once its state is one of ``states`` (or ``failed``)."""

    def settled() -> dict[str, Any]:
        row = stored(server, wamid)
        assert row["state"] in (*states, "failed"), row
        return row

    return eventually(settled, timeout=15)


def inbound_text(server: Server, channel: Channel, text: str, name: str = "Sheena") -> str:
    """The customer writes to the channel; returns the inbound message's wamid."""
    body = {"channel": channel.phone_number_id, "from": CUSTOMER, "name": name}
    with server.admin() as admin:
        response = admin.post("/sandbox/inbound", json={**body, "text": {"body": text}})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def wait_for_inbound_webhook(receiver: Receiver, wamid: str) -> Received:
    """The ``messages`` webhook wabox POSTed for an inbound message (its raw record)."""
    return eventually(lambda: receiver.inbound(wamid), what=f"the webhook of {wamid}")
