"""Fixtures of the delivery tests: a server on the virtual clock, a webhook receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.conftest import Server, make_server
from tests.delivery.receiver import Receiver, running_receiver
from tests.postgres import fresh_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with contextlib.ExitStack() as stack:
        env = {"WABOX_CLOCK": "virtual", "WABOX_WEBHOOK_RETRY_FOR": "3600"}
        if request.param == "postgresql":
            env["WABOX_DATABASE_URL"] = stack.enter_context(fresh_database())
        instance = make_server(tmp_path_factory.mktemp("lifecycle"), **env)
        instance.start()
        stack.callback(instance.stop)
        yield instance


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
