"""Scenario rules per recipient: the unhappy paths CI can script (admin API and TOML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API_KEY, Server, running_server
from tests.delivery.helpers import (
    advance,
    failed_status,
    new_channel,
    send,
    webhook,
)
from tests.delivery.receiver import Receiver, running_receiver
from tests.helpers import eventually, stored


def add(server: Server, **rule: Any) -> dict[str, Any]:
    with server.admin() as admin:
        response = admin.post("/sandbox/scenarios", json=rule)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_not_on_whatsapp(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    add(server, match="1650555010*", not_on_whatsapp=True, channel=channel["phone_number_id"])
    wamid = send(server, channel, to="16505550101")
    (failed,) = receiver.wait_for(wamid, 1)
    (error,) = failed.status["errors"]
    assert (failed.status["status"], error["code"]) == ("failed", 131026)
    assert error["title"] == "Message Undeliverable"
    assert failed_status(failed.json)["errors"][0]["code"] == 131026
    advance(server, 10)
    assert receiver.statuses(wamid) == ["failed"]
    assert stored(server, wamid)["state"] == "failed"
    other = send(server, channel, to="16505550201")  # no rule: succeeds
    assert receiver.wait_for(other, 1)[0].status["status"] == "sent"


@pytest.mark.parametrize(
    ("after", "expected"), [("accepted", ["failed"]), ("sent", ["sent", "failed"])]
)
def test_fail_with_any_code_and_details(
    server: Server, receiver: Receiver, after: str, expected: list[str]
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    details = "Message failed to send because more than 24 hours have passed."
    add(
        server,
        match="16505550300",
        channel=channel["phone_number_id"],
        fail={"code": 131047, "details": details, "after": after},
    )
    wamid = send(server, channel, to="16505550300")
    advance(server, 1)
    found = receiver.wait_for(wamid, len(expected))
    assert [r.status["status"] for r in found] == expected
    (error,) = found[-1].status["errors"]
    assert error == {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": details},
        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
    }


def test_delivered_but_never_read(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    add(server, match="16505550400", channel=channel["phone_number_id"], never_read=True)
    wamid = send(server, channel, to="16505550400")
    advance(server, 86400)
    receiver.wait_for(wamid, 2)
    advance(server, 1)
    assert receiver.statuses(wamid) == ["sent", "delivered"]
    assert stored(server, wamid)["state"] == "delivered"


def test_offline_phone_delays_delivery(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    add(server, match="16505550500", channel=channel["phone_number_id"], delivered_after=3600)
    wamid = send(server, channel, to="16505550500")
    receiver.wait_for(wamid, 1)
    advance(server, 3599)
    assert stored(server, wamid)["state"] == "sent"
    advance(server, 2)
    assert [r.status["status"] for r in receiver.wait_for(wamid, 3)] == [
        "sent",
        "delivered",
        "read",
    ]


def test_duplicate_webhooks(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    add(server, match="16505550600", channel=channel["phone_number_id"], duplicate_webhooks=True)
    wamid = send(server, channel, to="16505550600")
    advance(server, 2)
    found = receiver.wait_for(wamid, 6)
    assert [r.status["status"] for r in found] == [
        "sent",
        "sent",
        "delivered",
        "delivered",
        "read",
        "read",
    ]
    assert found[0].body == found[1].body


def test_read_before_delivered(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    add(server, match="16505550700", channel=channel["phone_number_id"], out_of_order=True)
    wamid = send(server, channel, to="16505550700")
    advance(server, 2)
    found = receiver.wait_for(wamid, 3)
    assert [r.status["status"] for r in found] == ["sent", "read", "delivered"]
    assert stored(server, wamid)["state"] == "read"


def test_exact_rules_win_and_rules_can_be_listed_and_deleted(server: Server) -> None:
    pattern = add(server, match="1650555080*", never_read=True)
    exact = add(server, match="+16505550801", not_on_whatsapp=True, description="blocked")
    assert pattern["id"] != exact["id"] and pattern["id"].startswith("sc_")
    channel = new_channel(server)
    assert_failed = send(server, channel, to="16505550801")
    other = send(server, channel, to="16505550809")
    advance(server, 5)
    assert stored(server, assert_failed)["state"] == "failed"
    assert eventually(lambda: stored(server, other)["state"] == "delivered")
    with server.admin() as admin:
        listed = admin.get("/sandbox/scenarios").json()["scenarios"]
        assert {r["id"] for r in listed} >= {pattern["id"], exact["id"]}
        assert admin.delete(f"/sandbox/scenarios/{exact['id']}").status_code == 200
        assert admin.delete(f"/sandbox/scenarios/{exact['id']}").status_code == 400
        bad = admin.post("/sandbox/scenarios", json={"match": "abc", "never_read": True})
        unknown = admin.post("/sandbox/scenarios", json={"match": "1", "explode": True})
        assert admin.delete("/sandbox/scenarios").json()["deleted"] >= 1
    assert bad.status_code == 400 and "match" in bad.json()["error"]["message"]
    assert unknown.status_code == 400 and "explode" in unknown.json()["error"]["message"]


def test_rules_from_a_toml_file(tmp_path: Path) -> None:
    rules = tmp_path / "scenarios.toml"
    rules.write_text(
        '[[scenario]]\nmatch = "1650555099*"\nnot_on_whatsapp = true\n\n'
        '[[scenario]]\nmatch = "16505550990"\n'
        'fail = { code = 131049, details = "ecosystem", title = "Not delivered" }\n'
    )
    with (
        running_server(tmp_path, clock="virtual", WABOX_SCENARIOS=str(rules)) as instance,
        running_receiver() as receiver,
        instance.admin() as admin,
    ):
        listed = admin.get("/sandbox/scenarios").json()["scenarios"]
        assert [r["id"] for r in listed] == ["file:1", "file:2"]
        channel = {"api_key": API_KEY}
        assert admin.get("/sandbox/channels").status_code == 200
        exact = send(instance, channel, to="16505550990")
        pattern = send(instance, channel, to="16505550991")
        advance(instance, 1)
        assert stored(instance, exact)["events"][-1]["details"] == {
            "code": 131049,
            "title": "Not delivered",
            "details": "ecosystem",
        }
        assert stored(instance, pattern)["events"][-1]["details"]["code"] == 131026
        assert receiver.received == []


def test_a_broken_toml_file_stops_the_start(tmp_path: Path) -> None:
    rules = tmp_path / "scenarios.toml"
    rules.write_text('[[scenario]]\nmatch = "1"\nnever_read = "yes"\n')
    with (
        pytest.raises(RuntimeError, match="never_read"),
        running_server(tmp_path, WABOX_SCENARIOS=str(rules)),
    ):
        pass
