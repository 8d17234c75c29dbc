"""The sandbox admin API: channels and the Mailpit-style message read API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import assert_graph_error, message


def test_create_channel_with_generated_fields(server: Server) -> None:
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json={})
        assert response.status_code == 201
        channel = response.json()
        assert channel["phone_number_id"].isdigit() and len(channel["phone_number_id"]) == 15
        assert channel["waba_id"].isdigit()
        assert channel["display_phone_number"].isdigit()
        assert len(channel["api_key"]) >= 32
        listed = admin.get("/sandbox/channels").json()["channels"]
    assert channel in listed


def test_create_channel_with_chosen_fields_and_use_it(server: Server) -> None:
    spec = {
        "phone_number_id": "106540352242922",
        "display_phone_number": "+1 555-078-3881",
        "waba_id": "102290129340398",
        "api_key": "my-chosen-key-123",
        "name": "shop",
    }
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json=spec).json()
    assert channel["display_phone_number"] == "15550783881"
    assert channel["name"] == "shop"
    url = f"{server.base_url}/v19.0/106540352242922/messages"
    response = httpx.post(
        url,
        json=message("text", {"body": "x"}),
        headers={"Authorization": "Bearer my-chosen-key-123"},
    )
    assert response.status_code == 200
    own = httpx.post(
        url,
        json=message("text", {"body": "x"}, to="+1 555 078 3881"),
        headers={"Authorization": "Bearer my-chosen-key-123"},
    )
    assert_graph_error(own, status=400, code=131021)


@pytest.mark.parametrize(
    ("spec", "contains"),
    [
        ({"phone_number_id": "abc"}, "phone_number_id"),
        ({"api_key": "short"}, "api_key"),
        ({"api_key": "has space in it"}, "api_key"),
        ({"colour": "red"}, 'Unexpected key "colour"'),
    ],
)
def test_create_channel_validation(server: Server, spec: dict[str, str], contains: str) -> None:
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json=spec)
    assert_graph_error(response, status=400, code=100, contains=contains)


def test_create_channel_conflicts(server: Server) -> None:
    with server.admin() as admin:
        first = admin.post("/sandbox/channels", json={"api_key": "conflicting-key-1"}).json()
        same_key = admin.post("/sandbox/channels", json={"api_key": "conflicting-key-1"})
        same_id = admin.post(
            "/sandbox/channels", json={"phone_number_id": first["phone_number_id"]}
        )
    assert_graph_error(same_key, status=400, code=100, contains="api_key is already used")
    assert_graph_error(same_id, status=400, code=100, contains="already a channel")


def test_delete_channel_removes_its_key_and_messages(server: Server) -> None:
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json={}).json()
        key = {"D360-API-KEY": channel["api_key"]}
        sent = httpx.post(
            f"{server.base_url}/messages", json=message("text", {"body": "x"}), headers=key
        )
        assert sent.status_code == 200
        pnid = channel["phone_number_id"]
        assert admin.get("/sandbox/messages", params={"channel": pnid}).json()["count"] == 1
        deleted = admin.delete(f"/sandbox/channels/{pnid}")
        assert deleted.status_code == 200 and deleted.json() == {"success": True}
        assert admin.get("/sandbox/messages", params={"channel": pnid}).json()["count"] == 0
        again = admin.delete(f"/sandbox/channels/{pnid}")
    assert_graph_error(again, status=400, code=100, subcode=33)
    refused = httpx.post(
        f"{server.base_url}/messages", json=message("text", {"body": "x"}), headers=key
    )
    assert_graph_error(refused, status=401, code=0)


def test_messages_filters_order_and_clear(server: Server) -> None:
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json={}).json()
        pnid, key = channel["phone_number_id"], {"D360-API-KEY": channel["api_key"]}
        sent = []
        for to, kind, body in [
            ("+1 650 555 0001", "text", {"body": "a"}),
            ("16505550002", "text", {"body": "b"}),
            ("16505550001", "image", {"link": "https://x.example/a.png"}),
        ]:
            response = httpx.post(
                f"{server.base_url}/messages", json=message(kind, body, to=to), headers=key
            )
            sent.append(response.json()["messages"][0]["id"])

        def wamids(**params: str) -> list[str]:
            found = admin.get("/sandbox/messages", params={"channel": pnid, **params}).json()
            return [m["wamid"] for m in found["messages"]]

        assert wamids() == sent[::-1]
        assert wamids(to="16505550001") == [sent[2], sent[0]]
        assert wamids(to="+1 (650) 555-0001") == [sent[2], sent[0]]
        assert wamids(type="image") == [sent[2]]
        assert wamids(limit="1") == [sent[2]]
        for bad in ("0", "x", "1001"):
            assert_graph_error(
                admin.get("/sandbox/messages", params={"limit": bad}),
                status=400,
                code=100,
                contains="limit",
            )
        cleared = admin.delete("/sandbox/messages", params={"channel": pnid})
        assert cleared.json() == {"deleted": 3}
        assert wamids() == []


def test_one_message_by_wamid(server: Server) -> None:
    """``?wamid=`` finds one message however many came after it, with the other filters."""
    with server.admin() as admin:
        channel = admin.post("/sandbox/channels", json={}).json()
        pnid, key = channel["phone_number_id"], {"D360-API-KEY": channel["api_key"]}
        sent = [
            httpx.post(
                f"{server.base_url}/messages", json=message("text", {"body": body}), headers=key
            ).json()["messages"][0]["id"]
            for body in ("first", "second", "third")
        ]

        def found(**params: str) -> list[dict[str, Any]]:
            response = admin.get("/sandbox/messages", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["count"] == len(body["messages"])
            return list(body["messages"])

        (first,) = found(wamid=sent[0])
        assert first["wamid"] == sent[0]
        assert first["payload"]["text"]["body"] == "first"
        assert [m["wamid"] for m in found(wamid=sent[0], limit="1")] == [sent[0]]
        assert [m["wamid"] for m in found(wamid=sent[1], channel=pnid)] == [sent[1]]
        assert found(wamid=sent[1], channel="100000000000001") == []
        assert found(wamid=sent[1], type="image") == []
        assert found(wamid="wamid.not-a-message") == []


def test_clear_all_messages(server: Server) -> None:
    with server.admin() as admin:
        httpx.post(
            f"{server.base_url}/messages",
            json=message("text", {"body": "x"}),
            headers={"D360-API-KEY": "test-key-default-0001"},
        )
        assert admin.get("/sandbox/messages").json()["count"] >= 1
        assert admin.delete("/sandbox/messages").json()["deleted"] >= 1
        assert admin.get("/sandbox/messages").json() == {"messages": [], "count": 0}


def test_health(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_noop_baseline_reads_json(server: Server) -> None:
    response = httpx.post(f"{server.base_url}/sandbox/noop", json={"a": 1})
    assert response.json() == {"success": True}
    assert_graph_error(
        httpx.post(f"{server.base_url}/sandbox/noop", content=b"x"), status=415, code=100
    )
