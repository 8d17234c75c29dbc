"""Throughput limits (wire-facts §7): 130429 per channel, 131056 per customer, both HTTP 400
at once; shared through Redis by several processes."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, running_server
from tests.delivery.helpers import advance, client, new_channel
from tests.helpers import assert_graph_error, free_port, message
from wabox.samples import sample_path
from wabox.store.buckets import Buckets, MemoryBuckets, RedisBuckets

REDIS_URL = "redis://127.0.0.1:6379/0"
PAIR = (
    "Message failed to send because there were too many messages sent from this phone number "
    "to the same phone number in a short period of time."
)


def text(c: httpx.Client, to: str) -> httpx.Response:
    return c.post("/messages", json=message("text", {"body": "hi"}, to=to))


def test_the_pair_limit_allows_a_burst_of_45_then_one_per_6_seconds(server: Server) -> None:
    channel = new_channel(server, enforce_window=False)
    with client(server, channel) as c:
        for n in range(45):
            assert text(c, "16505553000").status_code == 200, n
        refused = assert_graph_error(text(c, "16505553000"), status=400, code=131056)
        assert refused["message"] == (
            "(#131056) (Business Account, Consumer Account) pair rate limit hit"
        )
        assert refused["error_data"]["details"] == PAIR
        assert text(c, "16505553001").status_code == 200  # another customer is not limited
        advance(server, 6)
        assert text(c, "16505553000").status_code == 200
        assert_graph_error(text(c, "16505553000"), status=400, code=131056)


def test_the_channel_limit_is_80_per_second_by_default(server: Server) -> None:
    channel = new_channel(server, enforce_window=False)
    with client(server, channel) as c:
        for n in range(80):
            answer = text(c, f"1650555{n:04d}")
            assert answer.status_code == 200, (n, answer.text)
        refused = assert_graph_error(text(c, "16505559999"), status=400, code=130429)
        assert refused["message"] == "(#130429) Rate limit hit"
        assert refused["error_data"]["details"] == "Cloud API message throughput has been reached."
        advance(server, 0.5)
        for n in range(40):
            assert text(c, f"1650556{n:04d}").status_code == 200, n
        assert_graph_error(text(c, "16505569999"), status=400, code=130429)


def test_limits_are_set_per_channel(server: Server) -> None:
    slow = new_channel(server, enforce_window=False, throughput=3)
    with client(server, slow) as c:
        assert [text(c, f"165055700{n}").status_code for n in range(4)] == [200, 200, 200, 400]
    unlimited = new_channel(server, enforce_window=False, throughput=None, pair_rate_limit=False)
    with client(server, unlimited) as c:
        assert {text(c, "16505557100").status_code for _ in range(100)} == {200}
    with server.admin() as admin:
        too_fast = admin.post("/sandbox/channels", json={"settings": {"throughput": 1001}})
    assert_graph_error(too_fast, status=400, code=100, contains="throughput")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_the_buckets_agree(backend: str) -> None:
    """GCRA in memory and in Redis: the same answers for the same times."""

    async def run() -> list[float]:
        buckets: Buckets = MemoryBuckets() if backend == "memory" else RedisBuckets(REDIS_URL)
        key = f"test:{secrets.token_hex(8)}"
        t = 1_800_000_000.0
        try:
            answers = [await buckets.take(key, 6.0, 3, t) for _ in range(4)]
            answers.append(await buckets.take(key, 6.0, 3, t + 5.9))
            answers.append(await buckets.take(key, 6.0, 3, t + 6.0))
            answers.append(await buckets.take(key, 6.0, 3, t + 6.0))
            return answers
        finally:
            await buckets.close()

    answers = asyncio.run(run())
    assert answers[:3] == [0.0, 0.0, 0.0]
    assert answers[3] == pytest.approx(6.0)
    assert answers[4] == pytest.approx(0.1)
    assert answers[5] == 0.0
    assert answers[6] == pytest.approx(6.0)


@contextlib.contextmanager
def shared_servers(tmp: Path, count: int) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(running_server(tmp / f"s{n}", WABOX_REDIS_URL=REDIS_URL))
            for n in range(count)
        ]


def test_two_processes_share_the_buckets_through_redis(tmp_path: Path) -> None:
    channel: dict[str, Any] = {
        "phone_number_id": str(10**14 + secrets.randbelow(9 * 10**14)),
        "settings": {"enforce_window": False, "pair_rate_limit": True},
    }
    with shared_servers(tmp_path, 2) as (one, two):
        keys = []
        for instance in (one, two):
            with instance.admin() as admin:
                created = admin.post("/sandbox/channels", json=channel)
            assert created.status_code == 201, created.text
            keys.append(created.json()["api_key"])
        # The pair bucket refills one cell every 6 s of real time, so a slow machine may
        # earn a send or two during the burst: count them instead of assuming none.
        accepted, started = 0, time.monotonic()
        for n in range(90):
            instance, key = (one, keys[0]) if n % 2 else (two, keys[1])
            with httpx.Client(base_url=instance.base_url, headers={"D360-API-KEY": key}) as c:
                status = text(c, "16505558000").status_code
            if status != 200:
                assert status == 400
                break
            accepted += 1
        elapsed = time.monotonic() - started
    # One bucket per process would take 45 each (90); the shared one takes 45, plus a cell
    # for each 6 s the burst lasted.
    assert 45 <= accepted <= 45 + int(elapsed // 6) + 1, (accepted, elapsed)


def test_with_redis_down_sends_fail_open_with_a_warning_and_a_counter(tmp_path: Path) -> None:
    """Redis set but unreachable: the limits are not applied (nobody gets a 500 or a 130429
    from a rate limiter that is down), each such check is counted in /metrics, and the log
    says why, once."""
    down = f"redis://127.0.0.1:{free_port()}/0"
    with running_server(tmp_path, WABOX_REDIS_URL=down) as instance:
        channel = new_channel(instance, enforce_window=False, pair_rate_limit=True)
        with client(instance, channel) as c:
            statuses = {text(c, "16505558100").status_code for _ in range(50)}
        assert statuses == {200}  # 50 > the pair burst of 45: no limit was applied
        metrics = httpx.get(f"{instance.base_url}/metrics").text
        (line,) = [
            line
            for line in metrics.splitlines()
            if line.startswith("wabox_rate_limit_fail_open_total")
        ]
        assert float(line.split()[-1]) >= 50
        output = instance.output()
    assert output.count("Redis unreachable, rate limits not applied") == 1, output


def test_the_upload_limit_shares_the_buckets_and_the_clock(server: Server) -> None:
    """25 uploads a second per number (360dialog's figure); the virtual clock refills it."""
    channel = new_channel(server)
    picture = sample_path("image.jpg").read_bytes()

    def upload(c: httpx.Client) -> httpx.Response:
        return c.post(
            "/media",
            data={"messaging_product": "whatsapp"},
            files={"file": ("a.jpg", picture, "image/jpeg")},
        )

    with client(server, channel) as c:
        assert {upload(c).status_code for _ in range(25)} == {200}
        assert_graph_error(upload(c), status=400, code=4, contains="25 requests per second")
        advance(server, 1)
        assert upload(c).status_code == 200
