"""Fixtures of the conversation tests: a server on the virtual clock, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Server, make_server
from tests.delivery.receiver import Receiver, running_receiver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = make_server(tmp_path_factory.mktemp("conversations"), WABOX_CLOCK="virtual")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
