"""Crash safety of the steps before ``sent``: a media check cut short runs again."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from PIL import Image

from tests.conftest import running_server
from tests.delivery.helpers import advance, new_channel
from tests.helpers import eventually, message, stored
from tests.links.origin import running_origin


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def test_a_link_fetch_cut_by_a_crash_is_fetched_again(tmp_path: Path) -> None:
    with running_origin() as origin:
        link = origin.serve("/slow.jpg", jpeg(), headers={"Content-Type": "image/jpeg"}, delay=5)
        with running_server(tmp_path, clock="virtual", WABOX_LINK_ALLOW="127.0.0.1") as server:
            channel = new_channel(server)
            with httpx.Client(
                base_url=server.base_url, headers={"D360-API-KEY": channel["api_key"]}
            ) as client:
                response = client.post("/messages", json=message("image", {"link": link}))
            wamid = response.json()["messages"][0]["id"]
            assert eventually(lambda: origin.count("/slow.jpg") == 1)
            server.kill()  # mid-fetch
            origin.assets["/slow.jpg"].delay = 0
            server.start()
            # SQLite serves one process: what the dead one had leased is due at once.
            assert eventually(lambda: stored(server, wamid)["state"] == "sent")
            row = stored(server, wamid)
            assert [e["status"] for e in row["events"]] == ["accepted", "sent"]
            assert [m["outcome"] for m in row["media"]] == ["fetched"]
            assert origin.count("/slow.jpg") == 2


def test_advancing_the_virtual_clock_does_not_end_the_lease_of_a_check_in_progress(
    tmp_path: Path,
) -> None:
    """Leases measure how long work really takes: an hour of virtual time passing while a
    link is fetched must not start a second fetch of it."""
    with running_origin() as origin:
        link = origin.serve("/slow.jpg", jpeg(), headers={"Content-Type": "image/jpeg"}, delay=2)
        with running_server(tmp_path, clock="virtual", WABOX_LINK_ALLOW="127.0.0.1") as server:
            channel = new_channel(server)
            with httpx.Client(
                base_url=server.base_url, headers={"D360-API-KEY": channel["api_key"]}
            ) as client:
                response = client.post("/messages", json=message("image", {"link": link}))
            wamid = response.json()["messages"][0]["id"]
            assert eventually(lambda: origin.count("/slow.jpg") == 1)
            advance(server, 3600)
            assert eventually(lambda: stored(server, wamid)["state"] != "accepted")
            row = stored(server, wamid)
            assert [e["status"] for e in row["events"]][:2] == ["accepted", "sent"]
            assert [m["outcome"] for m in row["media"]] == ["fetched"]
            assert origin.count("/slow.jpg") == 1
