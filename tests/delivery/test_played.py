"""``played``, on the virtual clock: the status Meta sends the first time the customer plays
a voice note, after ``read`` (Meta for Developers, WhatsApp Cloud API, Webhooks reference,
"statuses": ``played``; pywa's MessageStatusType.PLAYED). Other audio is never played."""

from __future__ import annotations

from typing import Any

import httpx
from pywa.types import MessageStatusType

from tests.conftest import Server
from tests.delivery.helpers import advance, client, new_channel, parse_with_pywa, webhook
from tests.delivery.receiver import Receiver
from tests.helpers import eventually, message, stored

DATA = "tests/data/"


def uploaded(c: httpx.Client, name: str, mime: str) -> str:
    with open(DATA + name, "rb") as file:
        response = c.post(
            "/media", data={"messaging_product": "whatsapp"}, files={"file": (name, file, mime)}
        )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def audio(c: httpx.Client, media_id: str, voice: bool) -> str:
    body: dict[str, Any] = {"id": media_id, "voice": True} if voice else {"id": media_id}
    response = c.post("/messages", json=message("audio", body))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def test_a_voice_note_is_played_after_it_is_read(server: Server, receiver: Receiver) -> None:
    channel = new_channel(
        server, webhook=webhook(receiver), delivered_after=0.05, read_after=0.05, played_after=0.05
    )
    with client(server, channel) as c:
        note = audio(c, uploaded(c, "voice_mono.ogg", "audio/ogg"), voice=True)
        song = audio(c, uploaded(c, "tone.mp3", "audio/mpeg"), voice=False)
    receiver.wait_for(note, 1)
    for _ in range(3):  # delivered, read, played: each 0.05 s after the one before
        advance(server, 0.05)
    found = receiver.wait_for(note, 4)
    assert [r.status["status"] for r in found] == ["sent", "delivered", "read", "played"]
    assert parse_with_pywa(found[-1].json).status == MessageStatusType.PLAYED
    assert eventually(lambda: stored(server, note)["state"] == "played")
    assert [e["status"] for e in stored(server, note)["events"]][-2:] == ["read", "played"]
    receiver.wait_for(song, 3)
    assert eventually(lambda: stored(server, song)["state"] == "read")
    assert stored(server, song)["events"][-1]["status"] == "read"  # and it stays read
    assert [r.status["status"] for r in receiver.for_message(song)] == [
        "sent",
        "delivered",
        "read",
    ]


def test_played_after_null_never_plays(server: Server, receiver: Receiver) -> None:
    channel = new_channel(
        server, webhook=webhook(receiver), delivered_after=0.05, read_after=0.05, played_after=None
    )
    with client(server, channel) as c:
        note = audio(c, uploaded(c, "voice_mono.ogg", "audio/ogg"), voice=True)
    receiver.wait_for(note, 1)
    advance(server, 3600)
    receiver.wait_for(note, 3)
    assert eventually(lambda: stored(server, note)["state"] == "read")
    assert stored(server, note)["events"][-1]["status"] == "read"
