"""Fixtures of the conversation tests: a server on the virtual clock, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server, make_server
from tests.delivery.receiver import Receiver, running_receiver
from tests.links.origin import Origin, running_origin


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = make_server(
        tmp_path_factory.mktemp("conversations"),
        WABOX_CLOCK="virtual",
        WABOX_CHANNEL_DEFAULTS="{}",  # the real defaults: window enforced, limits on
        WABOX_LINK_ALLOW="127.0.0.1",  # template header links from a loopback origin
    )
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin() as running:
        yield running
