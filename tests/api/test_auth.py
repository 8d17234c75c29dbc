"""Keys per channel, both dialects, and one channel never acting as another."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import API_KEY, ChannelInfo, Server
from tests.helpers import assert_graph_error, message

TEXT = message("text", {"body": "hi"})


def test_360dialog_without_key(server: Server) -> None:
    response = httpx.post(f"{server.base_url}/messages", json=TEXT)
    error = assert_graph_error(response, status=401, code=0, message="Invalid api_key")
    assert error["type"] == "OAuthException"


def test_360dialog_with_wrong_key(server: Server) -> None:
    response = httpx.post(
        f"{server.base_url}/messages", json=TEXT, headers={"D360-API-KEY": "nope-nope-nope"}
    )
    assert_graph_error(response, status=401, code=0, message="Invalid api_key")


def test_cloud_without_token(server: Server, default_channel: ChannelInfo) -> None:
    url = f"{server.base_url}/v21.0/{default_channel.phone_number_id}/messages"
    response = httpx.post(url, json=TEXT)
    assert_graph_error(
        response,
        status=401,
        code=190,
        message="An access token is required to request this resource.",
    )
    assert response.headers["www-authenticate"].startswith("OAuth")


def test_cloud_with_wrong_token(server: Server, default_channel: ChannelInfo) -> None:
    url = f"{server.base_url}/v21.0/{default_channel.phone_number_id}/messages"
    response = httpx.post(url, json=TEXT, headers={"Authorization": "Bearer wrong"})
    assert_graph_error(
        response,
        status=401,
        code=190,
        message="Invalid OAuth access token - Cannot parse access token",
    )


def test_key_works_in_either_header_on_either_dialect(
    server: Server, default_channel: ChannelInfo
) -> None:
    cloud = f"{server.base_url}/v17.0/{default_channel.phone_number_id}/messages"
    for url in (f"{server.base_url}/messages", cloud):
        for headers in ({"D360-API-KEY": API_KEY}, {"Authorization": f"Bearer {API_KEY}"}):
            assert httpx.post(url, json=TEXT, headers=headers).status_code == 200


@pytest.mark.parametrize("version", ["v14.0", "v18.0", "v21.0", "v24.0", "v25.1"])
def test_any_graph_version_is_accepted(
    server: Server, default_channel: ChannelInfo, version: str
) -> None:
    url = f"{server.base_url}/{version}/{default_channel.phone_number_id}/messages"
    response = httpx.post(url, json=TEXT, headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("version", ["21.0", "v21", "latest", "vX.Y"])
def test_malformed_versions_are_unknown_paths(
    server: Server, default_channel: ChannelInfo, version: str
) -> None:
    url = f"{server.base_url}/{version}/{default_channel.phone_number_id}/messages"
    response = httpx.post(url, json=TEXT, headers={"Authorization": f"Bearer {API_KEY}"})
    assert_graph_error(response, status=400, code=100, subcode=33, contains="Unknown path")


def test_a_key_cannot_send_as_another_channel(
    server: Server, default_channel: ChannelInfo, other_channel: ChannelInfo
) -> None:
    """Channel A's token on channel B's phone_number_id is refused like an unknown id."""
    url = f"{server.base_url}/v21.0/{other_channel.phone_number_id}/messages"
    foreign = httpx.post(url, json=TEXT, headers={"Authorization": f"Bearer {API_KEY}"})
    error = assert_graph_error(foreign, status=400, code=100, subcode=33)
    assert error["type"] == "GraphMethodException"
    assert f"Object with ID '{other_channel.phone_number_id}' does not exist" in error["message"]
    missing = httpx.post(
        f"{server.base_url}/v21.0/111111111111111/messages",
        json=TEXT,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    missing_error = assert_graph_error(missing, status=400, code=100, subcode=33)
    assert missing_error["message"].replace("111111111111111", "X") == error["message"].replace(
        other_channel.phone_number_id, "X"
    )


def test_messages_land_on_the_keys_channel_only(
    server: Server, default_channel: ChannelInfo, other_channel: ChannelInfo
) -> None:
    response = httpx.post(
        f"{server.base_url}/messages",
        json=message("text", {"body": "for other"}, to="4915112345678"),
        headers={"D360-API-KEY": other_channel.api_key},
    )
    wamid = response.json()["messages"][0]["id"]
    with server.admin() as admin:
        mine = admin.get("/sandbox/messages", params={"channel": default_channel.phone_number_id})
        theirs = admin.get("/sandbox/messages", params={"channel": other_channel.phone_number_id})
    assert wamid not in {m["wamid"] for m in mine.json()["messages"]}
    assert wamid in {m["wamid"] for m in theirs.json()["messages"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sandbox/channels"),
        ("POST", "/sandbox/channels"),
        ("DELETE", "/sandbox/channels/123"),
        ("GET", "/sandbox/messages"),
        ("DELETE", "/sandbox/messages"),
    ],
)
@pytest.mark.parametrize("header", [None, f"Bearer {API_KEY}", "Basic abc"])
def test_sandbox_needs_the_admin_token(
    server: Server, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, server.base_url + path, headers=headers, json={})
    assert_graph_error(response, status=401, code=190, contains="admin token")
