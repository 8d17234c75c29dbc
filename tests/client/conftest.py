"""A live wabox for the client: both dialects on one server, a receiver, a link origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import API_KEY, Server, make_server
from tests.delivery.receiver import Receiver, running_receiver
from tests.links.origin import Origin, running_origin
from wabox.client import Client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = make_server(
        tmp_path_factory.mktemp("client"), WABOX_LINK_ALLOW="127.0.0.1", WABOX_MEDIA_UPLOAD_RATE="0"
    )
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def channel(server: Server) -> dict[str, Any]:
    with server.admin() as admin:
        channels = admin.get("/sandbox/channels").json()["channels"]
    return dict(next(c for c in channels if c["api_key"] == API_KEY))


@pytest.fixture(params=["360dialog", "cloud"])
def wa(request: pytest.FixtureRequest, server: Server, channel: dict[str, Any]) -> Iterator[Client]:
    """The client in each dialect; only the base URL says it is wabox."""
    if request.param == "360dialog":
        client = Client.for_360dialog(API_KEY, base_url=server.base_url)
    else:
        client = Client.for_cloud_api(
            API_KEY, channel["phone_number_id"], base_url=server.base_url, version="v21.0"
        )
    with client:
        yield client


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
