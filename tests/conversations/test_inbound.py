"""A customer's messages: the inbound webhook (wire-facts §5.2) and the 24-hour window."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from pywa import WhatsApp
from pywa.types import Message, MessageType

from tests.conftest import Server
from tests.delivery.helpers import SECRET, advance, new_channel, now, send, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, stored
from wabox.identities import business_scoped_user_id


def inbound(server: Server, **body: Any) -> Any:
    with server.admin() as admin:
        return admin.post("/sandbox/inbound", json=body)


def conversations(server: Server, channel: str) -> list[dict[str, Any]]:
    with server.admin() as admin:
        return list(
            admin.get("/sandbox/conversations", params={"channel": channel}).json()["conversations"]
        )


def wait_for_message(receiver: Receiver, wamid: str) -> dict[str, Any]:
    """The body of the ``messages`` webhook wabox POSTed for an inbound message."""
    return dict(eventually(lambda: receiver.inbound(wamid), what=f"the webhook of {wamid}").json)


def test_an_inbound_text_reaches_the_webhook_as_meta_sends_it(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    at = now(server)
    response = inbound(
        server,
        channel=channel["phone_number_id"],
        **{"from": "16505551234"},
        name="Sheena Nelson",
        text={"body": "Hi! Is my order on its way?"},
    )
    assert response.status_code == 200, response.text
    wamid = response.json()["id"]
    assert wamid.startswith("wamid.")
    assert response.json()["window_expires_at"] == pytest.approx(at + 86400)
    body = wait_for_message(receiver, wamid)
    value = body["entry"][0]["changes"][0]["value"]
    assert body["object"] == "whatsapp_business_account"
    assert body["entry"][0]["id"] == channel["waba_id"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {
        "display_phone_number": channel["display_phone_number"],
        "phone_number_id": channel["phone_number_id"],
    }
    (contact,) = value["contacts"]
    assert contact["profile"] == {"name": "Sheena Nelson"}
    assert contact["wa_id"] == "16505551234"
    # Since April 2026 both name the customer's BSUID too (Meta for Developers,
    # "Business-scoped user IDs": contacts[].user_id, messages[].from_user_id).
    assert contact["user_id"] == business_scoped_user_id(channel["waba_id"], "16505551234")
    assert value["messages"] == [
        {
            "from": "16505551234",
            "from_user_id": contact["user_id"],
            "id": wamid,
            "timestamp": str(int(at)),
            "type": "text",
            "text": {"body": "Hi! Is my order on its way?"},
        }
    ]
    wa = WhatsApp(phone_id="1", token="x", server=None)
    parsed = Message.from_update(wa, body)  # type: ignore[arg-type]
    assert parsed.type == MessageType.TEXT
    assert parsed.text == "Hi! Is my order on its way?"
    assert parsed.from_user.name == "Sheena Nelson"
    assert parsed.from_user.wa_id == "16505551234"
    row = stored(server, wamid)
    assert (row["direction"], row["state"], row["to"]) == ("inbound", "received", "16505551234")


def test_a_reply_a_reaction_and_a_location(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    sent = send(server, channel, to="16505550001")
    pnid = channel["phone_number_id"]
    reply = inbound(
        server,
        channel=pnid,
        **{"from": "16505550001"},
        text={"body": "yes"},
        context={"id": sent},
    ).json()["id"]
    reaction = inbound(
        server,
        channel=pnid,
        **{"from": "16505550001"},
        type="reaction",
        reaction={"message_id": sent, "emoji": "👍"},
    ).json()["id"]
    place = inbound(
        server,
        channel=pnid,
        **{"from": "16505550001"},
        type="location",
        location={"latitude": 52.52, "longitude": 13.405, "name": "Berlin"},
    ).json()["id"]
    wa = WhatsApp(phone_id="1", token="x", server=None)
    quoted = wait_for_message(receiver, reply)["entry"][0]["changes"][0]["value"]
    assert quoted["messages"][0]["context"] == {
        "from": channel["display_phone_number"],
        "id": sent,
    }
    assert quoted["contacts"][0]["profile"] == {"name": "Customer 0001"}
    reacted = wait_for_message(receiver, reaction)
    assert reacted["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"] == {
        "message_id": sent,
        "emoji": "👍",
    }
    assert Message.from_update(wa, reacted).type == MessageType.REACTION  # type: ignore[arg-type]
    located = wait_for_message(receiver, place)
    parsed = Message.from_update(wa, located)  # type: ignore[arg-type]
    assert parsed.location is not None and parsed.location.name == "Berlin"


def test_each_inbound_message_opens_the_window_for_24_hours(server: Server) -> None:
    channel = new_channel(server)
    pnid = channel["phone_number_id"]
    assert conversations(server, pnid) == []
    first = now(server)
    inbound(server, channel=pnid, **{"from": "16505550002"}, text={"body": "1"})
    (open_,) = conversations(server, pnid)
    assert (open_["window"], open_["window_expires_at"]) == ("open", pytest.approx(first + 86400))
    advance(server, 86400 - 60)
    assert conversations(server, pnid)[0]["window"] == "open"
    advance(server, 120)
    assert conversations(server, pnid)[0]["window"] == "closed"
    later = now(server)
    inbound(server, channel=pnid, **{"from": "16505550002"}, text={"body": "2"})
    (again,) = conversations(server, pnid)
    assert again["window"] == "open"
    assert again["window_expires_at"] == pytest.approx(later + 86400)
    assert again["name"] == "Customer 0002"


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        ({"from": "16505550003"}, "The parameter text is required"),
        ({"from": "1650", "text": {"body": "x"}}, "from"),
        (
            {"from": "16505550003", "text": {"body": "x"}, "colour": "red"},
            'Unexpected key "colour"',
        ),
        (
            {
                "from": "16505550003",
                "type": "location",
                "location": {"latitude": 91, "longitude": 0},
            },
            "latitude",
        ),
        ({"from": "16505550003", "channel": "12345678", "text": {"body": "x"}}, "does not exist"),
    ],
)
def test_bad_inbound_requests_are_refused(
    server: Server, body: dict[str, Any], contains: str
) -> None:
    response = inbound(server, **body)
    assert response.status_code == 400, response.text
    assert contains in response.json()["error"]["message"] + response.json()["error"].get(
        "error_data", {}
    ).get("details", "")


NAMES_AND_TEXTS = [
    ("Jörg Müller", "Grüße! Mein Paket: äöå"),
    ("Анна Петрова", "Привет, где мой заказ?"),
    ("محمد", "مرحبا، هل وصل طلبي؟"),
    ("王小明", "你好，我的订单到了吗？"),
    ("प्रिया", "नमस्ते 🙏 order/123 at shop@example.com, 50% off <today>"),
    ("🦊 Fox", "👍🏽👨‍👩‍👧‍👦🇧🇷"),
]


def test_webhook_bytes_are_escaped_as_meta_sends_them_and_signed_as_sent(
    server: Server, receiver: Receiver
) -> None:
    """Meta's webhook bodies are ASCII: non-ASCII as lowercase \\uXXXX (surrogate pairs
    beyond the BMP), "/" "<" "%" "@" escaped; X-Hub-Signature-256 is the HMAC of those exact
    bytes (Meta for Developers: Graph API "Getting Started with Webhooks", Validate
    Payloads; Messenger Platform "Webhooks", Validate Event Payloads)."""

    def signature(body: bytes) -> str:
        return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    channel = new_channel(server, webhook=webhook(receiver))
    records = []
    for n, (name, text) in enumerate(NAMES_AND_TEXTS):
        response = inbound(
            server,
            channel=channel["phone_number_id"],
            **{"from": f"1650555{n:04d}"},
            name=name,
            text={"body": text},
        )
        assert response.status_code == 200, response.text
        wamid = response.json()["id"]
        record = eventually(lambda w=wamid: receiver.inbound(w))
        assert record.body.isascii(), record.body
        assert record.headers["x-hub-signature-256"] == signature(record.body)
        value = record.json["entry"][0]["changes"][0]["value"]
        assert value["contacts"][0]["profile"]["name"] == name
        assert value["messages"][0]["text"]["body"] == text
        records.append(record)
    german, *_, hindi, fox = records
    assert b"J\\u00f6rg M\\u00fcller" in german.body  # lowercase hex
    assert b"\\u00e4\\u00f6\\u00e5" in german.body
    assert b"\\ud83e\\udd8a Fox" in fox.body  # 🦊: a surrogate pair
    assert b"order\\/123 at shop\\u0040example.com, 50\\u0025 off \\u003Ctoday>" in hindi.body

    # Status webhooks too: the callback data comes back in them as the business sent it.
    wamid = send(server, channel, biz_opaque_callback_data="Bestellung/42 für ana@example.com")
    (sent,) = receiver.wait_for(wamid, 1)[:1]
    assert sent.body.isascii()
    assert b"Bestellung\\/42 f\\u00fcr ana\\u0040example.com" in sent.body
    assert sent.headers["x-hub-signature-256"] == signature(sent.body)
