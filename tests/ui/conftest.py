"""A real server, a real webhook receiver, a real link origin, and headless Chromium
(Debian's ``chromium``, driven by Playwright through ``executable_path``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import ADMIN_TOKEN, Server, server_fixture
from tests.delivery.receiver import Receiver, running_receiver

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium's calls home are refused by a closed
# network, many at a time; the rest keep a headless run quiet and reproducible.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent.parent.parent / "artifacts" / "screenshots"


server = server_fixture("ui", WABOX_LINK_ALLOW="127.0.0.1")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """One receiver for a module's browser tests (the suite's is fresh for each test)."""
    with running_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A signed-in page: the token link sets the cookie, as a developer's click would."""
    context = browser.new_context(viewport={"width": 1200, "height": 820})
    opened = context.new_page()
    opened.goto(f"{server.base_url}/?token={ADMIN_TOKEN}")
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
