"""``WABOX_UI_OPEN=1``: the inbox without the token link, for a purely local sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import make_server


def test_an_open_inbox_needs_no_cookie_and_a_closed_one_does(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir()
    (tmp_path / "closed").mkdir()
    opened = make_server(tmp_path / "open", WABOX_UI_OPEN="1")
    closed = make_server(tmp_path / "closed")
    for instance in (opened, closed):
        instance.start()
    try:
        with httpx.Client(base_url=opened.base_url) as anonymous:
            page = anonymous.get("/")
            assert page.status_code == 200 and 'id="customers"' in page.text
        with httpx.Client(base_url=closed.base_url) as anonymous:
            page = anonymous.get("/")
            assert page.status_code == 401 and "The inbox is closed" in page.text
            assert anonymous.get("/ui/events").status_code == 401
        with opened.admin() as admin:
            for channel in admin.get("/sandbox/channels").json()["channels"]:
                admin.delete(f"/sandbox/channels/{channel['phone_number_id']}")
        with httpx.Client(base_url=opened.base_url) as anonymous:
            empty = anonymous.get("/")
            assert empty.status_code == 404 and "There is no channel" in empty.text
        assert "/?token=" not in opened.output()
        assert "/?token=" in closed.output()
    finally:
        for instance in (opened, closed):
            instance.stop()
