"""A status webhook takes the shape of the version its webhook is subscribed at: before
v24.0 ``sent`` and ``delivered`` carry the ``conversation`` (its id and origin, and on
``sent`` its expiration), since v24.0 they do not, outside a free entry point (Meta for
Developers, WhatsApp Cloud API, Webhooks reference, "statuses": conversation; the v24.0
changelog)."""

from __future__ import annotations

from tests.conftest import Server
from tests.delivery.helpers import advance, new_channel, parse_with_pywa, send, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import assert_graph_error


def statuses(server: Server, receiver: Receiver, version: str | None) -> list[dict[str, object]]:
    extra = {} if version is None else {"version": version}
    channel = new_channel(server, webhook=webhook(receiver, **extra))
    wamid = send(server, channel)
    receiver.wait_for(wamid, 1)
    advance(server, 0.1)
    receiver.wait_for(wamid, 2)
    advance(server, 1.0)
    found = receiver.wait_for(wamid, 3)
    return [record.status for record in found]


def test_a_webhook_before_v24_carries_the_conversation(server: Server, receiver: Receiver) -> None:
    sent, delivered, read = statuses(server, receiver, "v23.0")
    conversation = sent["conversation"]
    assert isinstance(conversation, dict)
    assert conversation["origin"] == {"type": "service"}
    assert int(conversation["expiration_timestamp"]) == int(sent["timestamp"]) + 86400
    assert delivered["conversation"] == {"id": conversation["id"], "origin": {"type": "service"}}
    assert "conversation" not in read
    record = receiver.for_message(str(sent["id"]))[0]
    parsed = parse_with_pywa(record.json)
    assert parsed.conversation is not None and parsed.conversation.id == conversation["id"]


def test_a_current_webhook_leaves_it_out(server: Server, receiver: Receiver) -> None:
    for version in (None, "v24.0"):
        found = statuses(server, receiver, version)
        assert all("conversation" not in status for status in found), found
        assert "pricing" in found[0]


def test_the_version_is_a_graph_version(server: Server) -> None:
    with server.admin() as admin:
        refused = admin.post(
            "/sandbox/channels",
            json={"settings": {"webhook": {"url": "http://127.0.0.1:9/x", "version": "24"}}},
        )
    assert_graph_error(refused, status=400, code=100, contains="version")
