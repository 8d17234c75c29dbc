"""Fixtures of the client-library compatibility tests.

Real libraries from PyPI (pywa, heyoo) talk to a real ``wabox serve`` through a recording
pass-through (``tap.py``), so each test can say both what the library concluded and what it
actually put on the wire. Media links are served by a real loopback origin, and webhooks are
received by a real loopback receiver.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.compat.tap import Tap, running_tap
from tests.conftest import Server, make_server
from tests.delivery.receiver import Receiver, running_receiver
from tests.links.origin import Origin, running_origin
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


@pytest.fixture(scope="module")
def compat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = make_server(tmp_path_factory.mktemp("compat"), WABOX_LINK_ALLOW="127.0.0.1")
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


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


def stored(server: Server, wamid: str) -> dict[str, Any]:
    with server.admin() as admin:
        response = admin.get("/sandbox/messages", params={"limit": 1000})
    assert response.status_code == 200, response.text
    found = [m for m in response.json()["messages"] if m["wamid"] == wamid]
    assert len(found) == 1, f"wabox stored no message {wamid}"
    return dict(found[0])


def wait_for_state(
    server: Server, wamid: str, states: tuple[str, ...], timeout: float = 15
) -> dict[str, Any]:
    """The stored message once its state is one of ``states`` (or ``failed``)."""
    deadline = time.monotonic() + timeout
    while True:
        row = stored(server, wamid)
        if row["state"] in (*states, "failed") or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def inbound_text(server: Server, channel: Channel, text: str, name: str = "Sheena") -> str:
    """The customer writes to the channel; returns the inbound message's wamid."""
    body = {"channel": channel.phone_number_id, "from": CUSTOMER, "name": name}
    with server.admin() as admin:
        response = admin.post("/sandbox/inbound", json={**body, "text": {"body": text}})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def wait_for_inbound_webhook(receiver: Receiver, wamid: str, timeout: float = 10) -> Any:
    """The ``messages`` webhook wabox POSTed for an inbound message (its raw record)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received in list(receiver.received):
            value = received.json["entry"][0]["changes"][0]["value"]
            if value.get("messages", [{}])[0].get("id") == wamid:
                return received
        time.sleep(0.02)
    raise AssertionError(f"no inbound webhook for {wamid}")
