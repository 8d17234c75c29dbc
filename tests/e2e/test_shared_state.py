"""What one process changes, every other process on the database uses within a second.

Two ``wabox serve`` processes on one PostgreSQL database and one S3 bucket (a moto
server). Each change is made through the first and used through the second, with one
second allowed between the change's answer and its use: the processes tell each other
through PostgreSQL's LISTEN/NOTIFY (``store/signals.py``), and the second one's caches
(the channel registry, confirmed media, the scenario book, the virtual clock) follow.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import SUITE_ENV, Server
from tests.delivery.receiver import Receiver, running_receiver
from tests.helpers import eventually, message, stored
from tests.links.origin import Origin
from tests.postgres import fresh_database
from tests.s3 import BUCKET, CREDENTIALS, moto_server

WITHIN = 1.0  # seconds a change may take to reach the other process
TO = "16505550142"


@contextlib.contextmanager
def two_processes(tmp_path: Path, **env: str) -> Iterator[tuple[Server, Server]]:
    with fresh_database() as url, contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(moto_server(tmp_path / "moto.log"))
        shared = {
            **SUITE_ENV,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "WABOX_MEDIA_URL": f"s3://{BUCKET}/{tmp_path.name}",
            "WABOX_DATABASE_URL": url,
            **env,
        }
        one, two = (Server(data_dir=tmp_path / name / "data", env=shared) for name in "ab")
        for server in (one, two):
            server.launch()
            stack.callback(server.stop)
        for server in (one, two):
            server.wait_ready()
        yield one, two


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with two_processes(tmp_path) as servers:
        yield servers


def make_channel(server: Server, **settings: Any) -> dict[str, Any]:
    with server.admin() as admin:
        response = admin.post("/sandbox/channels", json={"settings": settings})
    assert response.status_code == 201, response.text
    return dict(response.json())


def change(server: Server, channel: dict[str, Any], **fields: Any) -> None:
    with server.admin() as admin:
        response = admin.patch(f"/sandbox/channels/{channel['phone_number_id']}", json=fields)
    assert response.status_code == 200, response.text


def post(server: Server, channel: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/messages", json=body, headers={"D360-API-KEY": channel["api_key"]}
    )


def send(server: Server, channel: dict[str, Any], to: str = TO) -> str:
    response = post(server, channel, message("text", {"body": "hi"}, to=to))
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def changed_within(attempt: Callable[[], bool]) -> None:
    """Use the other process (``attempt``: True once it sees the change) until it does: an
    attempt begun ``WITHIN`` seconds after the change must see it."""
    started = time.monotonic()
    while True:
        began = time.monotonic()
        if attempt():
            return
        assert began - started < WITHIN, f"still the old state {began - started:.2f} s after"


def test_a_new_webhook_url_is_used_by_every_process(
    pair: tuple[Server, Server], receiver: Receiver
) -> None:
    one, two = pair
    channel = make_channel(two, webhook={"url": receiver.url}, read_after=None)
    first = send(two, channel)  # both processes have now met the channel
    receiver.wait_for(first, 2)
    with running_receiver() as moved:
        change(one, channel, settings={"webhook": {"url": moved.url}, "read_after": None})

        def reaches_the_new_url() -> bool:
            probe = send(two, channel)
            eventually(lambda: receiver.statuses(probe) or moved.statuses(probe))
            return bool(moved.statuses(probe))

        changed_within(reaches_the_new_url)
        wamids = [send(two, channel, to=f"1650555{n:04d}") for n in range(20)]
        for wamid in wamids:
            moved.wait_for(wamid, 2)
        assert all(receiver.statuses(wamid) == [] for wamid in wamids)


def test_new_timing_is_used_by_every_process(pair: tuple[Server, Server]) -> None:
    one, two = pair
    channel = make_channel(two, delivered_after=3600, read_after=None)
    before = send(two, channel)
    assert eventually(lambda: stored(two, before)["state"] == "sent")
    change(one, channel, settings={"delivered_after": 0.05, "read_after": None})

    def delivered_at_once() -> bool:
        wamid = send(two, channel)
        with contextlib.suppress(AssertionError):
            eventually(lambda: stored(two, wamid)["state"] == "delivered", timeout=2)
            return True
        return False

    changed_within(delivered_at_once)
    wamids = [send(two, channel) for _ in range(10)]
    for wamid in wamids:
        eventually(lambda w=wamid: stored(two, w)["state"] == "delivered")
    assert stored(one, before)["state"] == "sent"  # planned under the old timing


def test_a_scenario_added_or_deleted_through_one_process_rules_the_other(
    pair: tuple[Server, Server],
) -> None:
    one, two = pair
    channel = make_channel(two, delivered_after=0.05, read_after=None)
    first = send(two, channel)
    assert eventually(lambda: stored(two, first)["state"] == "delivered")

    def rules(server: Server) -> list[dict[str, Any]]:
        with server.admin() as admin:
            return list(admin.get("/sandbox/scenarios").json()["scenarios"])

    with one.admin() as admin:
        rule = admin.post("/sandbox/scenarios", json={"match": TO, "not_on_whatsapp": True})
    assert rule.status_code in (200, 201), rule.text
    assert eventually(lambda: len(rules(two)) == 1, timeout=WITHIN)
    failed = send(two, channel)
    assert eventually(lambda: stored(two, failed)["state"] == "failed")
    with one.admin() as admin:
        assert admin.delete("/sandbox/scenarios").status_code in (200, 204)
    assert eventually(lambda: rules(two) == [], timeout=WITHIN)
    wamids = [send(two, channel) for _ in range(10)]
    for wamid in wamids:
        eventually(lambda w=wamid: stored(two, w)["state"] == "delivered")


def test_a_channel_deleted_through_one_process_is_gone_from_the_other(
    pair: tuple[Server, Server],
) -> None:
    one, two = pair
    channel = make_channel(one)
    send(two, channel)  # the second process now remembers the key
    with one.admin() as admin:
        assert admin.delete(f"/sandbox/channels/{channel['phone_number_id']}").status_code in (
            200,
            204,
        )
    refused = eventually(
        lambda: post(two, channel, message("text", {"body": "hi"})).status_code == 401,
        timeout=WITHIN,
    )
    assert refused
    with two.admin() as admin:
        listed = admin.get("/sandbox/channels").json()["channels"]
    assert channel["phone_number_id"] not in {c["phone_number_id"] for c in listed}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def test_media_deleted_through_one_process_is_refused_by_the_other(
    pair: tuple[Server, Server],
) -> None:
    one, two = pair
    channel = make_channel(one)
    key = {"D360-API-KEY": channel["api_key"]}
    uploaded = httpx.post(
        f"{one.base_url}/media",
        headers=key,
        data={"messaging_product": "whatsapp"},
        files={"file": ("red.png", png(), "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    media_id = uploaded.json()["id"]
    image = message("image", {"id": media_id})
    assert post(two, channel, image).status_code == 200  # confirmed, and remembered there
    downloaded = httpx.get(f"{two.base_url}/{media_id}", headers=key)
    assert downloaded.status_code == 200, downloaded.text
    assert httpx.delete(f"{one.base_url}/{media_id}", headers=key).status_code == 200
    assert eventually(lambda: post(two, channel, image).status_code == 400, timeout=WITHIN)
    assert httpx.get(f"{two.base_url}/{media_id}", headers=key).status_code != 200


def test_the_virtual_clock_advanced_through_one_process_moves_in_the_other(
    tmp_path: Path,
) -> None:
    with two_processes(tmp_path, WABOX_CLOCK="virtual") as (one, two):
        channel = make_channel(two, delivered_after=3600, read_after=None)
        wamids = [send(two, channel, to=f"1650555{n:04d}") for n in range(10)]
        for wamid in wamids:
            eventually(lambda w=wamid: stored(two, w)["state"] == "sent")
        with one.admin() as admin:
            moved = admin.post("/sandbox/clock/advance", json={"seconds": 3600}).json()["now"]
        with two.admin() as admin:
            assert eventually(
                lambda: admin.get("/sandbox/clock").json()["now"] == moved, timeout=WITHIN
            )
        for wamid in wamids:
            eventually(lambda w=wamid: stored(two, w)["state"] == "delivered")
        # Two advances at once through different processes both count.
        with one.admin() as a, two.admin() as b:
            a.post("/sandbox/clock/advance", json={"seconds": 10})
            b.post("/sandbox/clock/advance", json={"seconds": 5})
        with one.admin() as admin:
            assert eventually(
                lambda: admin.get("/sandbox/clock").json()["now"] == moved + 15, timeout=WITHIN
            )


def test_an_open_inbox_page_hears_of_messages_another_process_handled(
    tmp_path: Path,
) -> None:
    """The inbox's live stream waits for a signal, and signals cross processes: a message
    sent through the first process refreshes a page open on the second at once (the
    stream's fallback look comes only every 2 s)."""
    with two_processes(tmp_path, WABOX_UI_OPEN="1") as (one, two):
        channel = make_channel(one)
        with httpx.stream("GET", f"{two.base_url}/ui/events", timeout=10) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 1000"

            def next_change() -> float:
                for line in lines:
                    if line == "event: change":
                        return time.monotonic()
                raise AssertionError("the stream ended")

            first = next_change()  # the first look always refreshes: the page may be behind
            # Past the 1 s a page waits between refreshes, and well before the stream's
            # fallback look (2 s after the first): only a signal can refresh it at once.
            time.sleep(max(0.0, first + 1.1 - time.monotonic()))
            sent_at = time.monotonic()
            send(one, channel)
            assert next_change() - sent_at < 0.5


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


def test_one_link_is_fetched_once_for_every_process_that_needs_it(
    tmp_path: Path, origin: Origin
) -> None:
    """Single flight through the database: while one process fetches a link, the others'
    messages with the same link wait for its result instead of asking the origin again."""
    link = origin.serve("/shared.jpg", jpeg(), headers={"Content-Type": "image/jpeg"}, delay=1)
    with two_processes(tmp_path, WABOX_LINK_ALLOW="127.0.0.1") as (one, two):
        channel = make_channel(one)
        image = message("image", {"link": link})
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: post((one, two)[n % 2], channel, image), range(16)))
        wamids = [answer.json()["messages"][0]["id"] for answer in answers]
        for wamid in wamids:
            eventually(lambda w=wamid: stored(one, w)["state"] != "accepted")
        assert {stored(one, w)["state"] for w in wamids} <= {"sent", "delivered", "read"}
        assert origin.count("/shared.jpg") == 1


def test_a_link_fetch_of_a_killed_process_is_taken_over_after_its_lease(
    tmp_path: Path, origin: Origin
) -> None:
    link = origin.serve("/slow.jpg", jpeg(), headers={"Content-Type": "image/jpeg"}, delay=30)
    env = {"WABOX_LINK_ALLOW": "127.0.0.1", "WABOX_LINK_TIMEOUT": "2"}  # a 12 s lease
    with two_processes(tmp_path, **env) as (one, two):
        channel = make_channel(one)
        image = message("image", {"link": link})
        assert post(one, channel, image).status_code == 200
        assert eventually(lambda: origin.count("/slow.jpg") == 1)
        waiting = post(two, channel, image).json()["messages"][0]["id"]
        one.kill()  # mid-fetch: its flight is nobody's once its lease ends
        origin.assets["/slow.jpg"].delay = 0
        assert eventually(lambda: stored(two, waiting)["state"] != "accepted", timeout=30)
        assert stored(two, waiting)["state"] in ("sent", "delivered", "read")
        assert origin.count("/slow.jpg") == 2
