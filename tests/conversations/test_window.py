"""The customer service window on the virtual clock (wire-facts §6, §4.3 131047)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server
from tests.conversations.test_inbound import conversations, inbound
from tests.delivery.helpers import (
    advance,
    client,
    failed_status,
    new_channel,
    parse_with_pywa,
    send,
    webhook,
)
from tests.delivery.receiver import Receiver
from tests.helpers import message, register_template
from wabox.store.conversations import OpenWindows

REENGAGEMENT = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number."
    },
    "href": "/documentation/business-messaging/whatsapp/support/error-codes",
}


def statuses(receiver: Receiver, server: Server, wamid: str, count: int) -> list[dict[str, Any]]:
    """Advance the clock a little (sent → delivered), then the webhooks of ``wamid``."""
    advance(server, 0.5)
    found = receiver.wait_for(wamid, count)
    return [r.status for r in found]


def send_template(server: Server, channel: dict[str, Any], to: str, name: str) -> str:
    body = {
        "name": name,
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}]}],
    }
    with client(server, channel) as c:
        response = c.post("/messages", json=message("template", body, to=to))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def test_a_text_to_a_customer_who_never_wrote_fails_with_131047(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver), read_after=None)
    wamid = send(server, channel, to="16505551001")
    (failed,) = statuses(receiver, server, wamid, 1)
    assert failed["status"] == "failed"
    assert failed["errors"] == [REENGAGEMENT]
    assert "pricing" not in failed
    advance(server, 5)
    assert receiver.statuses(wamid) == ["failed"]  # never sent, never delivered
    assert failed_status(receiver.for_message(wamid)[0].json)["errors"] == [REENGAGEMENT]
    (conversation,) = [
        c for c in conversations(server, channel["phone_number_id"]) if c["wa_id"] == "16505551001"
    ] or [None]
    assert conversation is None  # the business writing does not open a window


def test_the_window_opens_on_inbound_and_closes_24_hours_later(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver), read_after=None)
    customer = "16505551002"
    opened = inbound(
        server, channel=channel["phone_number_id"], **{"from": customer}, text={"body": "hi"}
    )
    assert opened.status_code == 200, opened.text
    advance(server, 23 * 3600 + 59 * 60)
    (conversation,) = conversations(server, channel["phone_number_id"])
    assert conversation["window"] == "open"
    inside = send(server, channel, to=customer)
    sent, delivered = statuses(receiver, server, inside, 2)
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")
    free = {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert sent["pricing"] == free and delivered["pricing"] == free
    advance(server, 2 * 60)  # 24 h 1 m after the customer's message
    (conversation,) = conversations(server, channel["phone_number_id"])
    assert conversation["window"] == "closed"
    outside = send(server, channel, to=customer)
    (failed,) = statuses(receiver, server, outside, 1)
    assert (failed["status"], failed["errors"]) == ("failed", [REENGAGEMENT])


@pytest.mark.parametrize(
    ("category", "window_open", "pricing"),
    [
        ("MARKETING", False, ("marketing", "regular", True)),
        ("UTILITY", False, ("utility", "regular", True)),
        ("AUTHENTICATION", False, ("authentication", "regular", True)),
        ("MARKETING", True, ("marketing", "regular", True)),
        ("UTILITY", True, ("utility", "free_customer_service", False)),
    ],
)
def test_a_template_always_goes_through_and_is_priced_by_category_and_window(
    server: Server,
    receiver: Receiver,
    category: str,
    window_open: bool,
    pricing: tuple[str, str, bool],
) -> None:
    channel = new_channel(server, webhook=webhook(receiver), read_after=None)
    customer = "16505551003"
    with server.admin() as admin:
        register_template(admin, "greeting", channel=channel["phone_number_id"], category=category)
    if window_open:
        inbound(
            server, channel=channel["phone_number_id"], **{"from": customer}, text={"body": "?"}
        )
    wamid = send_template(server, channel, customer, "greeting")
    sent, delivered = statuses(receiver, server, wamid, 2)
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")
    expected = {
        "billable": pricing[2],
        "pricing_model": "PMP",
        "type": pricing[1],
        "category": pricing[0],
    }
    assert sent["pricing"] == expected
    parsed = parse_with_pywa(receiver.for_message(wamid)[0].json)
    assert parsed.pricing is not None
    assert parsed.pricing.category.value == pricing[0]
    assert parsed.pricing.billable is pricing[2]


def test_a_channel_may_switch_the_window_off(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver), enforce_window=False)
    wamid = send(server, channel, to="16505551004")
    sent, delivered = statuses(receiver, server, wamid, 2)
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")


def test_remembered_windows_are_a_lower_bound() -> None:
    """The send path's memory of open windows never says open when the store says closed."""
    windows = OpenWindows()
    assert windows.open_until("1", "2", now=100.0) is None
    windows.saw("1", "2", 200.0)
    windows.saw("1", "2", 150.0)  # an older answer arriving late does not shorten it
    assert windows.open_until("1", "2", now=100.0) == 200.0
    assert windows.open_until("1", "2", now=200.0) is None  # past it: ask the store
    windows.saw("9", "2", 300.0)
    windows.forget_channel("1")
    assert windows.open_until("1", "2", now=100.0) is None
    assert windows.open_until("9", "2", now=100.0) == 300.0


def test_a_deleted_channels_windows_do_not_outlive_it(server: Server) -> None:
    channel = new_channel(server, read_after=None)
    pnid = channel["phone_number_id"]
    inbound(server, channel=pnid, **{"from": "16505551005"}, text={"body": "hi"})
    with server.admin() as admin:
        assert admin.delete(f"/sandbox/channels/{pnid}").status_code == 200
        again = admin.post(
            "/sandbox/channels", json={"phone_number_id": pnid, "api_key": "reborn-key-0001"}
        )
    assert again.status_code == 201, again.text
    wamid = send(server, again.json(), to="16505551005")
    advance(server, 0.5)
    with server.admin() as admin:
        found = admin.get("/sandbox/messages", params={"channel": pnid}).json()["messages"]
    (row,) = [m for m in found if m["wamid"] == wamid]
    assert row["state"] == "failed"
    assert row["events"][-1]["details"]["code"] == 131047
