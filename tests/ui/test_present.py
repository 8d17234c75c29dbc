"""How stored messages become bubbles (no browser needed)."""

from __future__ import annotations

from typing import Any

from wabox.schema.sandbox import MessageEvent, StoredMessage
from wabox.ui.present import bubbles, last_preview


def stored(wamid: str, direction: str, kind: str, payload: dict[str, Any], at: float,
           state: str = "read", **extra: Any) -> StoredMessage:  # fmt: skip
    return StoredMessage(
        wamid=wamid, channel="1", direction=direction, to="2", type=kind, state=state,
        created_at=at, payload=payload, **extra,
    )  # fmt: skip


def test_reactions_fold_into_their_message_and_replies_quote() -> None:
    shown = bubbles(
        [
            stored(
                "w3", "inbound", "reaction", {"reaction": {"message_id": "w1", "emoji": "👍"}}, 3
            ),
            stored("w1", "outbound", "text", {"text": {"body": "Your order shipped"}}, 1),
            stored(
                "w2", "inbound", "text", {"text": {"body": "thanks"}, "context": {"id": "w1"}}, 2
            ),
        ]
    )
    assert [b.wamid for b in shown] == ["w1", "w2"]  # oldest first; the reaction is no bubble
    first, reply = shown
    assert (first.side, first.reactions, first.tick) == ("business", ["👍"], "✓✓")
    assert reply.side == "customer" and reply.quoted is first
    assert reply.quoted.preview == "Your order shipped"


def test_a_failure_and_the_media_to_show() -> None:
    failed = stored(
        "w1", "outbound", "image", {"image": {"link": "https://x/y.jpg"}}, 1, state="failed",
        events=[MessageEvent(status="failed", timestamp=2, details={"code": 131053})],
    )  # fmt: skip
    voice = stored("w2", "inbound", "audio", {"audio": {"id": "77", "voice": True}}, 3)
    (one, two) = bubbles([failed, voice])
    assert one.error == {"code": 131053} and one.media_id is None and one.tick == "!"
    assert two.media_id == "77" and two.preview == "🎤 Voice message"


def test_previews_of_the_conversation_list() -> None:
    contacts = {"contacts": [{"name": {"formatted_name": "Grace Hopper"}}]}
    assert last_preview("contacts", contacts, None) == "👤 Grace Hopper"
    assert last_preview("template", {"template": {}}, {"body": "Hi Grace"}) == "Hi Grace"
    document = {"document": {"filename": "a.pdf"}}
    assert last_preview("document", document, None) == "📄 Document: a.pdf"
