"""The business's typing indicator: a mark-as-read with ``"typing_indicator": {"type":
"text"}`` shows the customer "typing…" until the business answers or 25 s pass (Meta for
Developers, WhatsApp Cloud API, "Typing indicators": "dismissed once you respond, or after
25 seconds, whichever comes first")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.delivery.helpers import client, new_channel
from tests.helpers import message

CUSTOMER = "16505557301"


def conversation(server: Server, channel: dict[str, Any]) -> dict[str, Any]:
    with server.admin() as admin:
        found = admin.get(
            "/sandbox/conversations", params={"channel": channel["phone_number_id"]}
        ).json()["conversations"]
    (only,) = [c for c in found if c["wa_id"] == CUSTOMER]
    return dict(only)


def test_a_typing_indicator_is_kept_with_the_conversation(server: Server) -> None:
    channel = new_channel(server)
    with server.admin() as admin:
        wrote = admin.post(
            "/sandbox/inbound",
            json={"channel": channel["phone_number_id"], "from": CUSTOMER, "text": {"body": "?"}},
        ).json()["id"]
    with client(server, channel) as c:
        plain = c.post(
            "/messages",
            json={"messaging_product": "whatsapp", "status": "read", "message_id": wrote},
        )
        assert plain.json() == {"success": True}
        assert conversation(server, channel)["typing_until"] is None
        typing = c.post(
            "/messages",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": wrote,
                "typing_indicator": {"type": "text"},
            },
        )
        assert typing.json() == {"success": True}
    shown = conversation(server, channel)
    assert shown["typing_until"] - shown["typing_since"] == pytest.approx(25.0)


def test_the_business_next_message_ends_its_typing_indicator(server: Server) -> None:
    """Dismissed once the business responds (the module's source): the conversation stops
    reporting the indicator at the business's next message."""
    channel = new_channel(server)
    with server.admin() as admin:
        wrote = admin.post(
            "/sandbox/inbound",
            json={"channel": channel["phone_number_id"], "from": CUSTOMER, "text": {"body": "?"}},
        ).json()["id"]
    with client(server, channel) as c:
        c.post(
            "/messages",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": wrote,
                "typing_indicator": {"type": "text"},
            },
        )
        assert conversation(server, channel)["typing_until"] is not None
        answered = c.post("/messages", json=message("text", {"body": "Here"}, to=CUSTOMER))
        assert answered.status_code == 200, answered.text
    shown = conversation(server, channel)
    assert (shown["typing_since"], shown["typing_until"]) == (None, None)
