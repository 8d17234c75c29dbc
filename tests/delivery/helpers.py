"""Helpers of the delivery tests: channels with webhooks, sends, the virtual clock, the log."""

from __future__ import annotations

from typing import Any

import httpx
from pywa import WhatsApp
from pywa.types import MessageStatus

from tests.conftest import Server
from tests.delivery.receiver import Receiver
from tests.helpers import message

SECRET = "app-secret-0123456789"
TO = "16505550100"


def new_channel(server: Server, **settings: Any) -> dict[str, Any]:
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json={"settings": settings})
    assert response.status_code == 201, response.text
    return dict(response.json())


def webhook(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {"url": receiver.url, "app_secret": SECRET, **extra}


def client(server: Server, channel: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"D360-API-KEY": channel["api_key"]})


def send(server: Server, channel: dict[str, Any], to: str = TO, **extra: Any) -> str:
    with client(server, channel) as c:
        response = c.post("/messages", json=message("text", {"body": "hi"}, to=to, **extra))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def advance(server: Server, seconds: float) -> float:
    with server.admin() as admin:
        response = admin.post("/sandbox/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    return float(response.json()["now"])


def now(server: Server) -> float:
    with server.admin() as admin:
        return float(admin.get("/sandbox/clock").json()["now"])


def deliveries(server: Server, **params: str) -> list[dict[str, Any]]:
    with server.admin() as admin:
        response = admin.get("/sandbox/webhooks", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def failed_status(body: dict[str, Any]) -> dict[str, Any]:
    """A failed status to a phone number as Meta sends it: the customer named by wa_id
    alone, no BSUID (Meta for Developers, "Business-scoped user IDs": recipient_user_id is
    omitted on failed statuses to a phone number; pywa issue #227 shows the production
    payload, ``"contacts": [{"wa_id": ...}]``, which pywa 4.5.0 cannot parse yet)."""
    value = body["entry"][0]["changes"][0]["value"]
    (status,) = value["statuses"]
    assert value["contacts"] == [{"wa_id": status["recipient_id"]}]
    assert "recipient_user_id" not in status
    return dict(status)


def parse_with_pywa(body: dict[str, Any]) -> MessageStatus:
    wa = WhatsApp(phone_id="1", token="x", server=None)
    return MessageStatus.from_update(client=wa, update=body)  # type: ignore[arg-type]
