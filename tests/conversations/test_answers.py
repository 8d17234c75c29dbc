"""What a customer does back: a reply button, a list row, a Flow, a template's quick reply.

Each answer reaches the webhook in Meta's inbound shape (Meta for Developers, WhatsApp Cloud
API, Webhooks reference, "messages" object: ``interactive`` with ``button_reply``,
``list_reply`` or ``nfm_reply``, and ``button`` with ``payload`` and ``text``; ``context``
with the business number and the answered wamid), and pywa, a real receiver library, reads
it as the answer it is.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pywa import WhatsApp
from pywa.types import CallbackButton, CallbackSelection, FlowCompletion
from typer.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, Server
from tests.delivery.helpers import client, new_channel, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import assert_graph_error, eventually, message
from wabox.cli import app

CUSTOMER = "16505557001"
BUTTONS = {
    "type": "button",
    "body": {"text": "Is this your order?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes-42", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no-42", "title": "No"}},
        ]
    },
}
LIST = {
    "type": "list",
    "body": {"text": "Pick a slot"},
    "action": {
        "button": "Slots",
        "sections": [
            {
                "title": "Tomorrow",
                "rows": [
                    {"id": "slot-9", "title": "9:00", "description": "Morning"},
                    {"id": "slot-14", "title": "14:00"},
                ],
            }
        ],
    },
}
FLOW = {
    "type": "flow",
    "body": {"text": "Book a table"},
    "action": {
        "name": "flow",
        "parameters": {
            "flow_message_version": "3",
            "flow_token": "token-7",
            "flow_id": "1234567890",
            "flow_cta": "Book",
        },
    },
}


def sent(server: Server, channel: dict[str, Any], interactive: dict[str, Any]) -> str:
    with client(server, channel) as c:
        response = c.post("/messages", json=message("interactive", interactive, to=CUSTOMER))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def answers(server: Server, channel: dict[str, Any], **body: Any) -> httpx.Response:
    with server.admin() as admin:
        return admin.post(
            "/sandbox/inbound",
            json={"channel": channel["phone_number_id"], "from": CUSTOMER, **body},
        )


def arrived(receiver: Receiver, wamid: str) -> dict[str, Any]:
    record = eventually(lambda: receiver.inbound(wamid))
    return dict(record.json)


WA = WhatsApp(phone_id="1", token="x", server=None)


def answered(
    server: Server, receiver: Receiver, shown: dict[str, Any], interactive: dict[str, Any]
) -> tuple[dict[str, Any], str, dict[str, Any], dict[str, Any]]:
    """A channel sends ``shown``, the customer answers it with ``interactive``: the channel,
    the business message's wamid, the inbound webhook and its message."""
    channel = new_channel(server, webhook=webhook(receiver))
    asked = sent(server, channel, shown)
    response = answers(server, channel, interactive=interactive, context={"id": asked})
    assert response.status_code == 200, response.text
    body = arrived(receiver, response.json()["id"])
    (got,) = body["entry"][0]["changes"][0]["value"]["messages"]
    return channel, asked, body, got


def test_a_tapped_reply_button(server: Server, receiver: Receiver) -> None:
    channel, asked, body, got = answered(
        server, receiver, BUTTONS, {"type": "button_reply", "button_reply": {"id": "yes-42"}}
    )
    assert got["type"] == "interactive"
    assert got["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "yes-42", "title": "Yes"},
    }
    assert got["context"] == {"from": channel["display_phone_number"], "id": asked}
    parsed = CallbackButton.from_update(WA, body)  # type: ignore[arg-type]
    assert (parsed.data, parsed.title, parsed.reply_to_message.id) == (
        "yes-42",
        "Yes",
        asked,
    )


def test_a_picked_list_row(server: Server, receiver: Receiver) -> None:
    _, _, body, got = answered(
        server, receiver, LIST, {"type": "list_reply", "list_reply": {"id": "slot-9"}}
    )
    assert got["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "slot-9", "title": "9:00", "description": "Morning"},
    }
    parsed = CallbackSelection.from_update(WA, body)  # type: ignore[arg-type]
    assert (parsed.data, parsed.title, parsed.description) == ("slot-9", "9:00", "Morning")


def test_a_completed_flow_carries_its_token(server: Server, receiver: Receiver) -> None:
    flow = {"response_json": json.dumps({"guests": 4, "time": "19:30"})}
    _, _, body, got = answered(server, receiver, FLOW, {"type": "nfm_reply", "nfm_reply": flow})
    reply = got["interactive"]["nfm_reply"]
    assert (got["interactive"]["type"], reply["body"], reply["name"]) == (
        "nfm_reply",
        "Sent",
        "flow",
    )
    assert json.loads(reply["response_json"]) == {
        "guests": 4,
        "time": "19:30",
        "flow_token": "token-7",
    }
    parsed = FlowCompletion.from_update(WA, body)  # type: ignore[arg-type]
    assert parsed.token == "token-7"
    assert parsed.response == {"guests": 4, "time": "19:30"}


def test_a_template_quick_reply(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    with server.admin() as admin:
        created = admin.post(
            "/sandbox/templates",
            json={
                "channel": channel["phone_number_id"],
                "name": "order_ready_qr",
                "language": "en_US",
                "category": "UTILITY",
                "components": [
                    {"type": "BODY", "text": "Your order is ready"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Pick up"}]},
                ],
            },
        )
    assert created.status_code == 201, created.text
    quick_reply = {"type": "button", "sub_type": "quick_reply", "index": "0"}
    with client(server, channel) as c:
        response = c.post(
            "/messages",
            json=message(
                "template",
                {
                    "name": "order_ready_qr",
                    "language": {"code": "en_US"},
                    "components": [
                        quick_reply | {"parameters": [{"type": "payload", "payload": "PICKUP"}]}
                    ],
                },
                to=CUSTOMER,
            ),
        )
    assert response.status_code == 200, response.text
    asked = response.json()["messages"][0]["id"]
    on_it = {"id": asked}
    # Only the template's own button, with the payload the business gave it.
    for button, contains in (
        ({"text": "Deliver"}, "must be one of the template's quick-reply buttons (Pick up)"),
        ({"text": "Pick up", "payload": "OTHER"}, 'the business gave the button ("PICKUP")'),
    ):
        refused = answers(server, channel, button=button, context=on_it)
        assert_graph_error(refused, status=400, code=100, contains=contains)
    tapped = answers(server, channel, button={"text": "Pick up"}, context=on_it)
    assert tapped.status_code == 200, tapped.text
    body = arrived(receiver, tapped.json()["id"])
    (got,) = body["entry"][0]["changes"][0]["value"]["messages"]
    assert (got["type"], got["button"]) == ("button", {"payload": "PICKUP", "text": "Pick up"})
    parsed = CallbackButton.from_update(WA, body)  # type: ignore[arg-type]
    assert (parsed.data, parsed.title) == ("PICKUP", "Pick up")


def test_an_answer_no_phone_could_send_is_refused(server: Server) -> None:
    channel = new_channel(server)
    asked = sent(server, channel, BUTTONS)
    on_it = {"id": asked}
    tap = {"type": "button_reply", "button_reply": {"id": "yes-42"}}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"interactive": tap}, "context is required"),
        ({"interactive": tap, "context": {"id": "wamid.nope"}}, "must name a message"),
        (
            {
                "interactive": {"type": "button_reply", "button_reply": {"id": "maybe"}},
                "context": on_it,
            },
            "must be one of the message's buttons (yes-42, no-42)",
        ),
        (
            {
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "no-42", "title": "Yes"},
                },
                "context": on_it,
            },
            'must be the one the message shows ("No")',
        ),
        (
            {
                "interactive": {"type": "list_reply", "list_reply": {"id": "slot-9"}},
                "context": on_it,
            },
            "answers an interactive list message",
        ),
        (
            {
                "interactive": {"type": "list_reply", "button_reply": {"id": "yes-42"}},
                "context": on_it,
            },
            "must hold list_reply and nothing else",
        ),
        ({"button": {"text": "Pick up"}, "context": on_it}, "answers a template message"),
    ]
    for body, contains in cases:
        assert_graph_error(
            answers(server, channel, **body), status=400, code=100, contains=contains
        )
    with server.admin() as admin:
        someone_else = admin.post(
            "/sandbox/inbound",
            json={
                "channel": channel["phone_number_id"],
                "from": "16505557002",
                "interactive": tap,
                "context": on_it,
            },
        )
    assert_graph_error(someone_else, status=400, code=100, contains="sent to 16505557002")


def test_the_cli_taps_and_picks_as_the_customer(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    asked = sent(server, channel, BUTTONS)
    common = ["--from", CUSTOMER, "--channel", channel["phone_number_id"], "--reply-to", asked]
    env = {"WABOX_BASE_URL": server.base_url, "WABOX_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "250"}
    ran = CliRunner().invoke(app, ["inbound", *common, "--tap", "no-42"], env=env)
    assert ran.exit_code == 0, ran.output
    wamid = json.loads(ran.stdout)["id"]
    (got,) = arrived(receiver, wamid)["entry"][0]["changes"][0]["value"]["messages"]
    assert got["interactive"]["button_reply"] == {"id": "no-42", "title": "No"}
    both = CliRunner().invoke(app, ["inbound", *common, "--tap", "no-42", "--text", "x"], env=env)
    assert both.exit_code == 2 and "give one of" in both.output
