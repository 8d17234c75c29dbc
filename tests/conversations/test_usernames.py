"""Customers with usernames: named by a business-scoped user ID (BSUID), perhaps with no
phone number in the webhook, and answered by ``recipient`` instead of ``to``.

The rules are Meta's (Meta for Developers, WhatsApp Business Platform, "Business-scoped
user IDs", updated May 2026), also published by 360dialog ("Usernames & BSUID"):
- inbound webhooks name the customer in ``contacts[]`` by ``user_id`` always, ``wa_id``
  only when the phone number can be shared, ``profile.username`` when it has one; the
  message carries ``from_user_id`` and ``from`` only with the number;
- a send takes ``recipient`` (a BSUID or parent BSUID) instead of ``to``; ``to`` wins when
  both are given; the answer's ``contacts[]`` holds ``user_id`` for a BSUID send and
  ``wa_id`` for a phone send, never both;
- statuses name the customer by ``recipient_user_id`` always (but on a failed status to
  a phone number) and ``recipient_id`` only with a number;
- authentication templates cannot go to a BSUID: 131062.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from pywa import WhatsApp
from pywa.types import Message

from tests.conftest import ADMIN_TOKEN, Server
from tests.conversations.test_inbound import conversations, inbound, wait_for_message
from tests.delivery.helpers import advance, client, new_channel, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import message, register_template, stored
from wabox.identities import business_scoped_user_id, parent_user_id, username_user_id


def send_to(server: Server, channel: dict[str, Any], **address: str) -> Any:
    body = message("text", {"body": "Thanks for writing!"}, to="0") | address
    if "to" not in address:
        del body["to"]
    with client(server, channel) as c:
        return c.post("/messages", json=body)


def test_a_customer_with_a_username_and_no_number_writes_and_is_answered(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    wrote = inbound(
        server,
        channel=channel["phone_number_id"],
        username="@realsheenanelson",
        name="Sheena Nelson",
        text={"body": "Does it come in another color?"},
    )
    assert wrote.status_code == 200, wrote.text
    body = wait_for_message(receiver, wrote.json()["id"])
    value = body["entry"][0]["changes"][0]["value"]
    user_id = username_user_id(channel["waba_id"], "realsheenanelson")
    # Meta's example, "Business-scoped user IDs", incoming messages: no wa_id, no from.
    assert value["contacts"] == [
        {"profile": {"name": "Sheena Nelson", "username": "@realsheenanelson"}, "user_id": user_id}
    ]
    (said,) = value["messages"]
    assert "from" not in said and said["from_user_id"] == user_id
    assert list(said)[:2] == ["from_user_id", "id"]
    parsed = Message.from_update(WhatsApp(phone_id="1", token="x", server=None), body)  # type: ignore[arg-type]
    assert parsed.from_user.bsuid == user_id and parsed.from_user.wa_id is None
    assert parsed.from_user.username == "@realsheenanelson"
    (conversation,) = conversations(server, channel["phone_number_id"])
    assert (conversation["wa_id"], conversation["username"]) == (user_id, "realsheenanelson")
    assert conversation["window"] == "open"

    again = inbound(
        server, channel=channel["phone_number_id"], username="realsheenanelson", text={"body": "?"}
    )
    later = wait_for_message(receiver, again.json()["id"])["entry"][0]["changes"][0]["value"]
    assert later["contacts"][0]["user_id"] == user_id  # the same customer, the same BSUID
    assert later["contacts"][0]["profile"]["name"] == "Sheena Nelson"  # as it last wrote

    answered = send_to(server, channel, recipient=user_id)
    assert answered.status_code == 200, answered.text
    assert answered.json()["contacts"] == [{"input": user_id, "user_id": user_id}]
    wamid = answered.json()["messages"][0]["id"]
    advance(server, 5)
    statuses = receiver.wait_for(wamid, 3)
    assert [r.status["status"] for r in statuses] == ["sent", "delivered", "read"]
    for received in statuses:
        value = received.json["entry"][0]["changes"][0]["value"]
        assert value["contacts"] == [{"user_id": user_id}]
        assert "recipient_id" not in received.status  # no number to name
        assert received.status["recipient_user_id"] == user_id
    assert stored(server, wamid)["to"] == user_id


def test_to_wins_and_a_phone_customers_bsuid_reaches_its_number(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    number = "16505551234"
    wrote = inbound(
        server, channel=channel["phone_number_id"], **{"from": number}, text={"body": "hi"}
    )
    value = wait_for_message(receiver, wrote.json()["id"])["entry"][0]["changes"][0]["value"]
    user_id = value["contacts"][0]["user_id"]
    assert user_id == business_scoped_user_id(channel["waba_id"], number)
    assert user_id.startswith("US.") and len(user_id) == 23

    both = send_to(server, channel, to="+1 650 555 1234", recipient=user_id)
    assert both.json()["contacts"] == [{"input": "+1 650 555 1234", "wa_id": number}]
    by_bsuid = send_to(server, channel, recipient=user_id)
    assert by_bsuid.json()["contacts"] == [{"input": user_id, "user_id": user_id}]
    wamid = by_bsuid.json()["messages"][0]["id"]
    assert stored(server, wamid)["to"] == number  # the same customer, the same conversation
    (sent, *_) = receiver.wait_for(wamid, 1)
    assert sent.status["recipient_id"] == number and sent.status["recipient_user_id"] == user_id
    contact = sent.json["entry"][0]["changes"][0]["value"]["contacts"]
    assert contact == [{"wa_id": number, "user_id": user_id}]

    other = new_channel(server, webhook=webhook(receiver))
    assert other["waba_id"] != channel["waba_id"]  # a BSUID is scoped to its business
    foreign = send_to(server, other, recipient=user_id)
    assert foreign.status_code == 400
    assert foreign.json()["error"]["code"] == 100


def test_what_a_send_without_a_valid_recipient_gets(server: Server) -> None:
    channel = new_channel(server)
    neither = send_to(server, channel)
    assert neither.status_code == 400
    # Meta's words when neither is given ("Send marketing messages", BSUID recipients),
    # with Graph's "(#100)" as on wabox's other parameter errors.
    assert neither.json()["error"]["message"] == "(#100) The parameter to is required."
    assert neither.json()["error"]["code"] == 100
    for bad in ("13491208655302741918", "us.1349", "US-1349", "US." + "1" * 129):
        refused = send_to(server, channel, recipient=bad)
        assert refused.status_code == 400, bad
        details = refused.json()["error"]["error_data"]["details"]
        assert "business-scoped user ID" in details and "wabox is strict" in details
    unknown = send_to(server, channel, recipient="US.13491208655302741918")
    assert unknown.status_code == 400
    assert "customer of this business" in unknown.json()["error"]["error_data"]["details"]
    parent = send_to(server, channel, recipient=parent_user_id("16505551234"))
    assert parent.status_code == 400
    assert "parent_user_ids" in parent.json()["error"]["error_data"]["details"]


def test_an_authentication_template_needs_the_phone_number(server: Server) -> None:
    channel = new_channel(server)
    with server.admin() as admin:
        register_template(
            admin, "login_code", channel=channel["phone_number_id"], category="AUTHENTICATION"
        )
    user_id = business_scoped_user_id(channel["waba_id"], "16505551234")
    body = message(
        "template",
        {
            "name": "login_code",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "123456"}]}],
        },
        to="16505551234",
    )
    with client(server, channel) as c:
        by_phone = c.post("/messages", json=body)
        del body["to"]
        by_bsuid = c.post("/messages", json={**body, "recipient": user_id})
    assert by_phone.status_code == 200, by_phone.text
    assert by_bsuid.status_code == 400
    error = by_bsuid.json()["error"]
    assert error["code"] == 131062
    # Meta's wording ("Business-scoped user IDs", error codes; "Send marketing messages").
    assert error["message"] == (
        "(#131062) Business-scoped User ID (BSUID) recipients are not supported for this message."
    )


def test_usernames_follow_whatsapp_rules_and_user_ids_meta_format(server: Server) -> None:
    channel = new_channel(server)
    for bad in ("ab", "Ada", "www.ada", ".ada", "ada.", "a..da", "1234", "ada-codes", "a" * 36):
        refused = inbound(
            server, channel=channel["phone_number_id"], username=bad, text={"body": "hi"}
        )
        assert refused.status_code == 400, bad
        assert "username" in refused.json()["error"]["error_data"]["details"]
    nobody = inbound(server, channel=channel["phone_number_id"], text={"body": "hi"})
    assert nobody.status_code == 400
    assert "username" in nobody.json()["error"]["error_data"]["details"]
    for bad in ("US.ENT.1234", "1234.5678", "USA.1234"):
        refused = inbound(
            server, channel=channel["phone_number_id"], user_id=bad, text={"body": "hi"}
        )
        assert refused.status_code == 400, bad
    wrong = inbound(
        server,
        channel=channel["phone_number_id"],
        **{"from": "16505551234"},
        user_id="US.1",
        text={"body": "hi"},
    )
    assert wrong.status_code == 400
    assert business_scoped_user_id(channel["waba_id"], "16505551234") in wrong.text
    given = inbound(
        server,
        channel=channel["phone_number_id"],
        user_id="BR.1502576394655843",
        text={"body": "oi"},
    )
    assert given.status_code == 200, given.text
    known = [c["wa_id"] for c in conversations(server, channel["phone_number_id"])]
    assert "BR.1502576394655843" in known


def test_a_business_enrolled_for_parent_bsuids_sees_them(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook=webhook(receiver), parent_user_ids=True)
    number = "4915112345678"
    wrote = inbound(
        server,
        channel=channel["phone_number_id"],
        **{"from": number},
        username="pablo.m",
        text={"body": "hallo"},
    )
    value = wait_for_message(receiver, wrote.json()["id"])["entry"][0]["changes"][0]["value"]
    parent = parent_user_id(number)
    assert parent.startswith("DE.ENT.")
    (contact,) = value["contacts"]
    assert contact == {
        "profile": {"name": "pablo.m", "username": "@pablo.m"},
        "wa_id": number,
        "user_id": business_scoped_user_id(channel["waba_id"], number),
        "parent_user_id": parent,
    }
    assert value["messages"][0]["from_parent_user_id"] == parent
    sent = send_to(server, channel, recipient=parent)
    assert sent.json()["contacts"] == [{"input": parent, "user_id": parent}]
    (status, *_) = receiver.wait_for(sent.json()["messages"][0]["id"], 1)
    assert status.status["recipient_parent_user_id"] == parent
    assert status.status["recipient_id"] == number


def test_wabox_inbound_writes_as_a_customer_with_a_username(server: Server) -> None:
    channel = new_channel(server)
    command = [
        sys.executable,
        "-m",
        "wabox",
        "inbound",
        "--base-url",
        server.base_url,
        "--admin-token",
        ADMIN_TOKEN,
        "--channel",
        channel["phone_number_id"],
        "--username",
        "ada.codes",
        "--text",
        "hello",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"].startswith("wamid.")
    (conversation,) = conversations(server, channel["phone_number_id"])
    assert conversation["username"] == "ada.codes"
    assert conversation["wa_id"] == username_user_id(channel["waba_id"], "ada.codes")
