"""The delivery tests' server: on the virtual clock, retrying webhooks for an hour.

The webhook ``receiver`` is the suite's (tests/conftest.py).
"""

from __future__ import annotations

from tests.conftest import DATABASES, server_fixture

server = server_fixture(
    "lifecycle", setups=DATABASES, clock="virtual", WABOX_WEBHOOK_RETRY_FOR="3600"
)
