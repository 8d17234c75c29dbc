"""The status machine and its webhooks, end to end, on the virtual clock.

A real wabox server (``WABOX_CLOCK=virtual``) delivers to a real receiver on loopback;
the tests move time with ``POST /sandbox/clock/advance`` and never sleep for it.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec
import pytest
from pywa.types import MessageStatusType

from tests.conftest import Server
from tests.delivery.helpers import (
    SECRET,
    TO,
    advance,
    client,
    deliveries,
    failed_status,
    new_channel,
    now,
    parse_with_pywa,
    send,
    webhook,
)
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, message, stored
from wabox.identities import business_scoped_user_id
from wabox.schema.webhooks import Envelope

# --- the happy path -------------------------------------------------------------------------


def test_sent_delivered_read_with_exact_signed_payloads(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    wamid = send(server, channel, biz_opaque_callback_data="order-17")
    sent_at = now(server)
    (sent,) = receiver.wait_for(wamid, 1)
    assert stored(server, wamid)["state"] == "sent"
    advance(server, 0.1)
    receiver.wait_for(wamid, 2)
    advance(server, 1.0)
    found = receiver.wait_for(wamid, 3)
    assert [r.status["status"] for r in found] == ["sent", "delivered", "read"]

    body = sent.json
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": channel["waba_id"],
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": channel["display_phone_number"],
                                "phone_number_id": channel["phone_number_id"],
                            },
                            "contacts": [
                                {
                                    "wa_id": TO,
                                    "user_id": business_scoped_user_id(channel["waba_id"], TO),
                                }
                            ],
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": "sent",
                                    "timestamp": str(int(sent_at)),
                                    "recipient_id": TO,
                                    "recipient_user_id": business_scoped_user_id(
                                        channel["waba_id"], TO
                                    ),
                                    "biz_opaque_callback_data": "order-17",
                                    "pricing": {
                                        "billable": False,
                                        "pricing_model": "PMP",
                                        "type": "free_customer_service",
                                        "category": "service",
                                    },
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    assert body["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"].startswith("US.")
    assert "pricing" in found[1].status and "pricing" not in found[2].status
    for received in found:
        assert received.headers["content-type"] == "application/json"
        expected = hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
        assert received.headers["x-hub-signature-256"] == f"sha256={expected}"
        # Our own schema: every member known, and nothing else in the payload.
        ours = msgspec.json.decode(received.body, type=Envelope)
        assert msgspec.to_builtins(ours) == received.json
        parsed = parse_with_pywa(received.json)
        assert parsed.id == wamid
        assert parsed.tracker == "order-17"
        assert parsed.from_user.wa_id == TO
    assert parse_with_pywa(found[2].json).status == MessageStatusType.READ

    row = stored(server, wamid)
    assert row["state"] == "read"
    events = row["events"]
    assert [e["status"] for e in events] == ["accepted", "sent", "delivered", "read"]
    assert events[2]["timestamp"] == pytest.approx(events[1]["timestamp"] + 0.1, abs=0.01)
    assert events[3]["timestamp"] == pytest.approx(events[2]["timestamp"] + 1.0, abs=0.01)
    log = deliveries(server, message_id=wamid)
    assert {d["state"] for d in log} == {"delivered"}
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["http_status"] == 200 for d in log)


def test_timing_is_per_channel_and_read_can_be_left_to_the_sandbox(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver), delivered_after=5, read_after=None)
    wamid = send(server, channel)
    receiver.wait_for(wamid, 1)
    advance(server, 4.9)
    assert stored(server, wamid)["state"] == "sent"
    advance(server, 0.2)
    receiver.wait_for(wamid, 2)
    advance(server, 3600)
    assert stored(server, wamid)["state"] == "delivered"
    with server.admin() as admin:
        assert admin.post(f"/sandbox/messages/{wamid}/read").status_code == 200
        again = admin.post(f"/sandbox/messages/{wamid}/read")
    assert eventually(lambda: receiver.statuses(wamid) == ["sent", "delivered", "read"])
    assert again.status_code == 400  # already read
    assert again.json()["error"]["error_subcode"] == 33


def test_no_webhook_configured_means_no_deliveries(server: Server) -> None:
    channel = new_channel(server)
    wamid = send(server, channel)
    advance(server, 2)
    assert eventually(lambda: stored(server, wamid)["state"] == "read")
    assert deliveries(server, message_id=wamid) == []


def test_failed_media_check_sends_a_failed_webhook(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    with client(server, channel) as c:
        response = c.post(
            "/messages", json=message("image", {"link": "http://127.0.0.1:9/cat.jpg"}, to=TO)
        )
    wamid = response.json()["messages"][0]["id"]
    (failed,) = receiver.wait_for(wamid, 1)
    status = failed.status
    assert status["status"] == "failed"
    assert "pricing" not in status
    (error,) = status["errors"]
    assert error["code"] == 131053
    assert error["title"] == error["message"] == "Media upload error"
    assert error["error_data"]["details"].startswith("Downloading media from weblink failed")
    assert error["href"] == "/documentation/business-messaging/whatsapp/support/error-codes"
    assert failed_status(failed.json)["errors"] == [error]


def test_one_long_advance_plays_every_step_at_its_own_time(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    wamid = send(server, channel)
    start = now(server)
    advance(server, 3600)
    found = receiver.wait_for(wamid, 3)
    stamps = [int(r.status["timestamp"]) for r in found]
    assert [r.status["status"] for r in found] == ["sent", "delivered", "read"]
    assert stamps == [int(start), int(start + 0.1), int(start + 1.1)]


# --- webhook configuration ------------------------------------------------------------------


def test_the_verify_handshake_guards_the_callback_url(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server)
    url = f"/sandbox/channels/{channel['phone_number_id']}"
    with server.admin() as admin:
        refused = admin.patch(
            url, json={"settings": {"webhook": webhook(receiver, verify_token="wrong")}}
        )
        unchanged = admin.get("/sandbox/channels").json()["channels"]
        accepted = admin.patch(
            url, json={"settings": {"webhook": webhook(receiver, verify_token="let-me-in")}}
        )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == 2200
    assert error["message"] == (
        "(#2200) Callback verification failed with the following errors: "
        "HTTP Status Code = 403; HTTP Message = Forbidden"
    )
    (mine,) = [c for c in unchanged if c["phone_number_id"] == channel["phone_number_id"]]
    assert mine["settings"]["webhook"] is None
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["settings"]["webhook"]["url"] == receiver.url
    assert len(receiver.verifications) == 2
    query = receiver.verifications[1]
    assert query["hub.mode"] == ["subscribe"]
    assert query["hub.challenge"][0].isdigit()


def test_an_unreachable_callback_fails_verification(server: Server) -> None:
    with server.admin() as admin:
        response = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": "http://127.0.0.1:9/hook", "verify_token": "t"}}},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2200
    assert "Callback verification failed" in response.json()["error"]["message"]


def test_360dialog_webhook_config_and_custom_headers(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server)
    with client(server, channel) as c:
        empty = c.get("/v1/configs/webhook")
        configured = c.post(
            "/v1/configs/webhook",
            json={"url": receiver.url, "headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
        )
        shown = c.get("/v1/configs/webhook")
        bad = c.post("/v1/configs/webhook", json={"url": "ftp://x"})
    assert empty.json() == {"url": None, "headers": {}}
    assert configured.status_code == 200
    assert (
        configured.json()
        == shown.json()
        == {
            "url": receiver.url,
            "headers": {"Authorization": "Basic dXNlcjpwYXNz"},
        }
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100
    wamid = send(server, channel)
    (sent,) = receiver.wait_for(wamid, 1)
    assert sent.headers["authorization"] == "Basic dXNlcjpwYXNz"
    assert "x-hub-signature-256" not in sent.headers  # 360dialog signs nothing
