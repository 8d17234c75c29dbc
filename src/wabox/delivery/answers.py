"""A customer's answer to a business message: a reply button tapped, a list row picked, a
Flow completed, a template's quick-reply button tapped.

Each arrives in Meta's inbound shape (Meta for Developers, WhatsApp Cloud API, Webhooks
reference, "messages": ``interactive`` with ``button_reply``, ``list_reply`` or
``nfm_reply``; ``button`` with ``payload`` and ``text``), with ``context`` naming the
business message. The phone only offers what the business message holds, so the answer
must match it: the button or row exists (its title comes from it), the message was sent to
this customer, and it is of the kind answered. Meta documents no error for an impossible
answer (no phone can send one); wabox refuses it, and says so.
"""

from __future__ import annotations

from typing import Any

import msgspec

from wabox.errors import InvalidParameter
from wabox.schema.inbound import Inbound
from wabox.store.messages import SentMessage

UNDOCUMENTED = "(wabox: no phone can send this answer, so Meta documents no error for it.)"


def answer(inbound: Inbound, customer: str, kind: str, sent: SentMessage | None) -> dict[str, Any]:
    """The ``interactive`` or ``button`` member of the customer's message."""
    if inbound.context is None:
        raise InvalidParameter(
            f"Param context is required for type {kind}: the answer names the business "
            f"message it answers (context.id). {UNDOCUMENTED}"
        )
    if sent is None or sent.recipient != customer:
        raise InvalidParameter(
            f"Param context.id must name a message this channel sent to {customer} - got "
            f'"{inbound.context.id}". {UNDOCUMENTED}'
        )
    if kind == "button":
        assert inbound.button is not None
        if sent.type != "template":
            raise InvalidParameter(
                f"A quick-reply button answers a template message; {inbound.context.id} is "
                f"{sent.type}. {UNDOCUMENTED}"
            )
        quick = {b["text"]: b.get("payload") or b["text"] for b in quick_replies(sent)}
        if inbound.button.text not in quick:
            raise InvalidParameter(
                f"Param button.text must be one of the template's quick-reply buttons "
                f'({", ".join(quick)}) - got "{inbound.button.text}". {UNDOCUMENTED}'
            )
        payload = quick[inbound.button.text]
        if inbound.button.payload is not None and inbound.button.payload != payload:
            raise InvalidParameter(
                f'Param button.payload must be the one the business gave the button ("'
                f'{payload}") - got "{inbound.button.payload}". {UNDOCUMENTED}'
            )
        return {"payload": payload, "text": inbound.button.text}
    assert inbound.interactive is not None
    interactive = inbound.interactive
    given = {
        name
        for name in ("button_reply", "list_reply", "nfm_reply")
        if getattr(interactive, name) is not None
    }
    if given != {interactive.type}:
        raise InvalidParameter(
            f"Param interactive must hold {interactive.type} and nothing else - got "
            f"{', '.join(sorted(given)) or 'none'}."
        )
    shown: dict[str, Any] = sent.payload.get("interactive") or {}
    expected = {"button_reply": "button", "list_reply": "list", "nfm_reply": "flow"}[
        interactive.type
    ]
    if sent.type != "interactive" or shown.get("type") != expected:
        raise InvalidParameter(
            f"A {interactive.type} answers an interactive {expected} message; "
            f"{inbound.context.id} is {shown.get('type') or sent.type}. {UNDOCUMENTED}"
        )
    action: dict[str, Any] = shown.get("action") or {}
    if interactive.button_reply is not None:
        reply = interactive.button_reply
        buttons = {
            b.get("reply", {}).get("id"): b.get("reply", {}).get("title")
            for b in action.get("buttons", [])
        }
        if reply.id not in buttons:
            raise InvalidParameter(
                f"Param interactive.button_reply.id must be one of the message's buttons "
                f'({", ".join(map(str, buttons))}) - got "{reply.id}". {UNDOCUMENTED}'
            )
        title = _same(reply.title, buttons[reply.id], "button_reply.title")
        return {"type": "button_reply", "button_reply": {"id": reply.id, "title": title}}
    if interactive.list_reply is not None:
        picked = interactive.list_reply
        rows = {
            row.get("id"): row
            for section in action.get("sections", [])
            for row in section.get("rows", [])
        }
        if picked.id not in rows:
            raise InvalidParameter(
                f"Param interactive.list_reply.id must be one of the list's rows "
                f'({", ".join(map(str, rows))}) - got "{picked.id}". {UNDOCUMENTED}'
            )
        row = rows[picked.id]
        content = {
            "id": picked.id,
            "title": _same(picked.title, row.get("title"), "list_reply.title"),
        }
        if row.get("description") is not None:
            content["description"] = _same(
                picked.description, row["description"], "list_reply.description"
            )
        return {"type": "list_reply", "list_reply": content}
    flow = interactive.nfm_reply
    assert flow is not None
    try:
        response = msgspec.json.decode(flow.response_json)
    except msgspec.DecodeError:
        response = None
    if not isinstance(response, dict):
        raise InvalidParameter(
            "Param interactive.nfm_reply.response_json must be a JSON object, as a Flow returns."
        )
    token = (action.get("parameters") or {}).get("flow_token")
    if token is not None:
        response.setdefault("flow_token", token)
    return {
        "type": "nfm_reply",
        "nfm_reply": {
            "response_json": msgspec.json.encode(response).decode(),
            "body": flow.body,
            "name": flow.name,
        },
    }


def quick_replies(sent: SentMessage) -> list[dict[str, Any]]:
    """A template message's quick-reply buttons as the customer saw them (text, payload)."""
    buttons = (sent.rendered or {}).get("buttons") or []
    return [b for b in buttons if isinstance(b, dict) and b.get("type") == "QUICK_REPLY"]


def _same(given: str | None, shown: Any, name: str) -> Any:
    if given is not None and given != shown:
        raise InvalidParameter(
            f'Param interactive.{name} must be the one the message shows ("{shown}") - got '
            f'"{given}". {UNDOCUMENTED}'
        )
    return shown
