"""Durable webhook delivery: retries with backoff, order per message, fair lanes, restarts."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server, running_server
from tests.delivery.helpers import advance, deliveries, new_channel, send, webhook
from tests.delivery.receiver import Receiver, running_receiver
from tests.helpers import eventually, free_port, stored


def test_a_500_is_retried_within_a_second(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    receiver.answers.extend([500])
    wamid = send(server, channel)
    (log,) = eventually(lambda: [d for d in deliveries(server, message_id=wamid) if d["attempts"]])
    assert log["state"] == "pending"
    assert log["attempts"][0]["http_status"] == 500
    assert log["last_error"] == "HTTP 500"
    first = log["attempts"][0]["at"]
    assert 0.5 <= log["next_attempt_at"] - first <= 1.0  # the first retry: within 1 s
    assert receiver.statuses(wamid) == []
    advance(server, 1)
    assert receiver.wait_for(wamid, 1)[0].status["status"] == "sent"
    (done,) = eventually(
        lambda: [
            d
            for d in deliveries(server, message_id=wamid)
            if d["event"] == "sent" and d["state"] == "delivered"
        ]
    )
    assert [a["http_status"] for a in done["attempts"]] == [500, 200]


def test_backoff_grows_and_a_webhook_dies_after_retry_for(server: Server) -> None:
    """A receiver that is never up: retries spread out, then the webhook is dead (1 h here)."""
    channel = new_channel(server, webhook={"url": f"http://127.0.0.1:{free_port()}/hook"})
    wamid = send(server, channel)
    gaps: list[float] = []

    def sent_webhook() -> dict[str, Any]:
        found = eventually(lambda: deliveries(server, message_id=wamid, event="sent"))
        return dict(found[0])

    for _ in range(40):
        first = sent_webhook()
        if first["state"] == "dead":
            break
        tried = len(first["attempts"])
        if tried and first["next_attempt_at"]:
            gap = first["next_attempt_at"] - first["attempts"][-1]["at"]
            gaps.append(gap)
            advance(server, gap + 0.01)
        eventually(lambda: len(sent_webhook()["attempts"]) > tried, timeout=5)  # noqa: B023
    sent = sent_webhook()
    assert sent["state"] == "dead"
    assert "ClientConnectorError" in sent["last_error"]
    assert gaps[0] <= 1.0 and max(gaps) > 100  # grew exponentially
    assert all(b >= a * 0.9 or b > 500 for a, b in itertools.pairwise(gaps))
    dead = deliveries(server, channel=channel["phone_number_id"], state="dead")
    assert sent["id"] in {d["id"] for d in dead}


def test_a_later_status_waits_for_the_earlier_one(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    receiver.answers.extend([503, 503, 503])
    wamid = send(server, channel)
    eventually(lambda: [d for d in deliveries(server, message_id=wamid) if d["attempts"]])
    advance(server, 0.2)  # delivered is due, sent is still being retried
    assert eventually(lambda: stored(server, wamid)["state"] == "delivered")
    with running_receiver() as other:
        # A webhook enqueued after ``delivered`` reaches another receiver: the dispatcher has
        # claimed since ``delivered`` was due, and passed it over.
        probe = send(server, new_channel(server, webhook=webhook(other)))
        other.wait_for(probe, 1)
    assert receiver.statuses(wamid) == []
    (held,) = deliveries(server, message_id=wamid, event="delivered")
    assert (held["state"], held["attempts"]) == ("pending", [])

    def retried_until_through() -> bool:
        advance(server, 5)  # each retry waits for the clock (within 1 s, then 1–2 s, 2–4 s)
        return len(receiver.for_message(wamid)) >= 3

    eventually(retried_until_through)
    found = receiver.wait_for(wamid, 3)
    assert [r.status["status"] for r in found] == ["sent", "delivered", "read"]
    attempts = {d["event"]: len(d["attempts"]) for d in deliveries(server, message_id=wamid)}
    assert attempts == {"sent": 4, "delivered": 1, "read": 1}


def test_redeliver(server: Server, receiver: Receiver) -> None:
    channel = new_channel(server, webhook=webhook(receiver))
    wamid = send(server, channel)
    receiver.wait_for(wamid, 1)
    (sent,) = [d for d in deliveries(server, message_id=wamid) if d["event"] == "sent"]
    with server.admin() as admin:
        assert admin.post(f"/sandbox/webhooks/{sent['id']}/redeliver").status_code == 200
        assert admin.post("/sandbox/webhooks/999999999/redeliver").status_code == 400
        bad = admin.get("/sandbox/webhooks", params={"state": "lost"})
    assert [r.status["status"] for r in receiver.wait_for(wamid, 2)] == ["sent", "sent"]
    assert bad.status_code == 400 and "pending, delivered, dead" in bad.json()["error"]["message"]


def test_advancing_the_clock_does_not_end_the_lease_of_a_post_in_flight(
    server: Server, receiver: Receiver
) -> None:
    """A claimed webhook's lease runs on real time: an hour of virtual time passing while
    its POST is in flight must not send it a second time."""
    receiver.delay = 1.0
    channel = new_channel(server, webhook=webhook(receiver))
    wamid = send(server, channel)
    eventually(lambda: receiver.posts >= 1)
    advance(server, 3600)  # plays delivered and read; the sent POST is still in flight
    found = receiver.wait_for(wamid, 3)
    assert [r.status["status"] for r in found] == ["sent", "delivered", "read"]
    attempts = {d["event"]: len(d["attempts"]) for d in deliveries(server, message_id=wamid)}
    assert attempts == {"sent": 1, "delivered": 1, "read": 1}


def test_a_slow_receiver_does_not_hold_up_another_channel(server: Server) -> None:
    with running_receiver() as slow, running_receiver() as fast:
        slow.delay = 2.0
        slow_channel = new_channel(server, webhook=webhook(slow))
        fast_channel = new_channel(server, webhook=webhook(fast))
        for n in range(100):
            send(server, slow_channel, to=f"1650555{n:04d}")
        started = time.monotonic()
        wamid = send(server, fast_channel)
        assert fast.wait_for(wamid, 1, timeout=5)
        assert time.monotonic() - started < 1.5
        assert len(slow.received) < 100  # still working through its own lane


def test_no_webhook_is_lost_across_a_crash_mid_retry(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, clock="virtual") as instance:
        channel = new_channel(instance, webhook={"url": f"http://127.0.0.1:{port}/webhook"})
        wamids = [send(instance, channel, to=f"165055512{n:02d}") for n in range(20)]
        advance(instance, 2)  # every message is read; no webhook got through
        eventually(lambda: len([d for d in deliveries(instance) if d["attempts"]]) >= 20)
        instance.kill()
        with running_receiver(port) as receiver:
            instance.start()

            def all_through() -> bool:
                advance(instance, 2)  # past the leases of the crash and the retries' backoff
                return all(len(receiver.for_message(wamid)) >= 3 for wamid in wamids)

            eventually(all_through, interval=0.1)
            for wamid in wamids:
                statuses = [r.status["status"] for r in receiver.wait_for(wamid, 3)]
                assert statuses == ["sent", "delivered", "read"], (wamid, statuses)
            assert eventually(lambda: {d["state"] for d in deliveries(instance)} == {"delivered"})


def test_the_virtual_clock_survives_a_restart(tmp_path: Path) -> None:
    with running_server(tmp_path, clock="virtual") as instance:
        moved = advance(instance, 86400 * 3)
        instance.stop()
        instance.start()
        with instance.admin() as admin:
            clock = admin.get("/sandbox/clock").json()
        assert clock["mode"] == "virtual"
        assert clock["now"] == moved


def test_the_real_clock_cannot_be_moved(tmp_path: Path) -> None:
    with running_server(tmp_path) as instance, instance.admin() as admin:
        response = admin.post("/sandbox/clock/advance", json={"seconds": 1})
        assert admin.get("/sandbox/clock").json()["mode"] == "real"
        assert response.status_code == 400
        assert "WABOX_CLOCK=virtual" in response.json()["error"]["message"]
        assert httpx.get(f"{instance.base_url}/health").status_code == 200
