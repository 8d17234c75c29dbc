"""The conversation tests' server: on the virtual clock and wabox's real channel defaults.

The webhook ``receiver`` and the link ``origin`` are the suite's (tests/conftest.py).
"""

from __future__ import annotations

from tests.conftest import server_fixture

server = server_fixture(
    "conversations",
    clock="virtual",
    WABOX_CHANNEL_DEFAULTS="{}",  # the real defaults: window enforced, limits on
    WABOX_LINK_ALLOW="127.0.0.1",  # template header links from a loopback origin
)
