"""Stored messages as the customer's phone shows them: one bubble per message, reactions on
the message they react to, replies with the quoted message, ticks for each status."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from wabox.schema.sandbox import StoredMessage
from wabox.schema.scenarios import Scenario

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
TICKS = {
    "accepted": "🕓",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓",
    "played": "✓✓",  # a voice note listened to: blue, with the microphone turned blue too
    "failed": "!",
}


@dataclass
class Bubble:
    wamid: str
    side: str  # "business" (right) or "customer" (left)
    type: str
    state: str
    at: float
    content: dict[str, Any]
    media_id: str | None = None
    quoted: Bubble | None = None
    reactions: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    rendered: dict[str, Any] | None = None

    @property
    def tick(self) -> str:
        return TICKS.get(self.state, "")

    @property
    def time(self) -> str:
        return clock_time(self.at)

    @property
    def preview(self) -> str:
        return preview(self.type, self.content, self.rendered)


def clock_time(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%H:%M")


def stamp(at: float) -> str:
    """ISO 8601 in UTC to the millisecond: the order of statuses a few ms apart shows."""
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def preview(kind: str, content: dict[str, Any], rendered: dict[str, Any] | None = None) -> str:
    """One line for the conversation list and quotes."""
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "template" and rendered is not None:
        return str(rendered.get("body", ""))
    if kind in MEDIA_KINDS:
        label = {"image": "📷 Photo", "video": "🎥 Video", "document": "📄 Document",
                 "sticker": "Sticker", "audio": "🎵 Audio"}[kind]  # fmt: skip
        if kind == "audio" and content.get("voice"):
            label = "🎤 Voice message"
        extra = content.get("caption") or content.get("filename")
        return f"{label}: {extra}" if extra else label
    if kind == "location":
        return "📍 " + str(content.get("name") or "Location")
    if kind == "contacts":
        names = [c.get("name", {}).get("formatted_name", "") for c in content.get("contacts", [])]
        return "👤 " + ", ".join(names)
    if kind == "reaction":
        return str(content.get("emoji", ""))
    if kind == "interactive":
        return str(content.get("body", {}).get("text", "Interactive message"))
    return kind


def describe(scenario: Scenario) -> str:
    """A scenario rule in words, for the settings page."""
    parts = []
    if scenario.not_on_whatsapp:
        parts.append("not on WhatsApp (131026)")
    if scenario.fail is not None:
        when = "instead of sent" if scenario.fail.after == "accepted" else "after sent"
        parts.append(f"fails with {scenario.fail.code} {when}: {scenario.fail.details}")
    if scenario.delivered_after is not None:
        parts.append(f"delivered {scenario.delivered_after:g} s after sent")
    if scenario.never_read:
        parts.append("never read")
    if scenario.duplicate_webhooks:
        parts.append("every webhook twice")
    if scenario.out_of_order:
        parts.append("read before delivered")
    return "; ".join(parts) or "no change"


def last_preview(kind: str, payload: Any, rendered: dict[str, Any] | None) -> str:
    """``preview`` of a stored payload (contacts keep their list under ``contacts``)."""
    return preview(kind, _content(kind, payload if isinstance(payload, dict) else {}), rendered)


def bubbles(messages: list[StoredMessage]) -> list[Bubble]:
    """Oldest first; reactions folded into the message they react to."""
    shown: list[Bubble] = []
    by_wamid: dict[str, Bubble] = {}
    reactions: list[tuple[str, str]] = []
    for message in sorted(messages, key=lambda m: (m.created_at, m.wamid)):
        payload = message.payload if isinstance(message.payload, dict) else {}
        content = _content(message.type, payload)
        if message.type == "reaction":
            reactions.append((str(content.get("message_id", "")), str(content.get("emoji", ""))))
            continue
        bubble = Bubble(
            wamid=message.wamid,
            side="customer" if message.direction == "inbound" else "business",
            type=message.type,
            state=message.state,
            at=message.created_at,
            content=content,
            media_id=_media_id(message, content),
            rendered=message.rendered,
        )
        failed = [e for e in message.events if e.status == "failed"]
        if failed and isinstance(failed[-1].details, dict):
            bubble.error = failed[-1].details
        quoted = (payload.get("context") or {}).get("id") or (payload.get("context") or {}).get(
            "message_id"
        )
        if quoted in by_wamid:
            bubble.quoted = by_wamid[quoted]
        by_wamid[message.wamid] = bubble
        shown.append(bubble)
    for target, emoji in reactions:
        if target in by_wamid and emoji:
            by_wamid[target].reactions.append(emoji)
    return shown


def _content(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "contacts":
        return {"contacts": payload.get("contacts", [])}
    content = payload.get(kind)
    return content if isinstance(content, dict) else {}


def _media_id(message: StoredMessage, content: dict[str, Any]) -> str | None:
    """The media to show: the ID sent or received, or the copy a link was fetched into."""
    if message.type == "template" and message.rendered:
        header = message.rendered.get("header") or {}
        kind = header.get("type")
        if kind in ("image", "video", "document"):
            content = header.get(kind) or {}
        else:
            return None
    elif message.type not in MEDIA_KINDS:
        return None
    if content.get("id"):
        return str(content["id"])
    for outcome in message.media:
        if outcome.media_id:
            return outcome.media_id
    return None
