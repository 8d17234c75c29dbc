"""Assertions shared by the API tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

FBTRACE = re.compile(r"^[A-Za-z0-9_-]{23}$")


def assert_graph_error(
    response: httpx.Response,
    *,
    status: int,
    code: int,
    message: str | None = None,
    contains: str | None = None,
    subcode: int | None = None,
) -> dict[str, Any]:
    """The response is the Graph envelope (wire-facts §4.1) with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert FBTRACE.match(error["fbtrace_id"]), error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str)
    if message is not None:
        assert error["message"] == message, error["message"]
    if contains is not None:
        assert contains in error["message"] + error["error_data"]["details"], error
    if subcode is None:
        assert "error_subcode" not in error
    else:
        assert error["error_subcode"] == subcode
    return dict(error)


def message(type_: str, body: Any, to: str = "16505551234", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": type_,
        type_: body,
        **extra,
    }


def register_template(
    admin: httpx.Client,
    name: str,
    *,
    channel: str | None = None,
    language: str = "en_US",
    header: str | None = None,
    body: str = "Hello {{1}}",
    category: str = "UTILITY",
    **extra: Any,
) -> dict[str, Any]:
    """An approved template through the admin API (kept if the channel already has it);
    ``header`` is a format: TEXT (text "Header"), IMAGE, VIDEO or DOCUMENT."""
    components: list[dict[str, Any]] = []
    if header == "TEXT":
        components.append({"type": "HEADER", "format": "TEXT", "text": "Header"})
    elif header is not None:
        components.append({"type": "HEADER", "format": header})
    components.append({"type": "BODY", "text": body})
    spec = {"name": name, "language": language, "category": category, "components": components}
    if channel is not None:
        spec["channel"] = channel
    response = admin.post("/sandbox/templates", json={**spec, **extra})
    if response.status_code == 400 and "already exists" in response.text:
        found = admin.get("/sandbox/templates", params={"name": name}).json()["templates"]
        return next(
            t
            for t in found
            if t["language"] == language and t["channel"] == (channel or t["channel"])
        )
    assert response.status_code == 201, response.text
    return dict(response.json())
