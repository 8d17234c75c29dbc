"""Receiver security probes: webhooks a receiver must refuse, sent to a real receiver that
checks signatures as Meta asks (Meta for Developers, Graph API, "Getting Started with
Webhooks": Validating Payloads, Verification Requests) and to one that checks nothing."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Server
from tests.delivery.helpers import new_channel, send
from tests.delivery.receiver import Receiver
from tests.helpers import assert_graph_error, eventually

TOKEN = "verify-me"


class CarefulReceiver:
    """Answers 200 only to a POST signed with ``secret``, and echoes the challenge only for
    its own verify token."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.bodies: list[tuple[bytes, str | None]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                ok = query.get("hub.verify_token") == [TOKEN]
                self._answer(200 if ok else 403, query["hub.challenge"][0] if ok else "no")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                given = self.headers.get("X-Hub-Signature-256")
                receiver.bodies.append((body, given))
                mac = hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                good = given is not None and hmac.compare_digest(given, "sha256=" + mac)
                self._answer(200 if good else 401, "ok" if good else "bad signature")

            def _answer(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def careful() -> Iterator[CarefulReceiver]:
    receiver = CarefulReceiver("first-secret")
    yield receiver
    receiver.close()


def probe(server: Server, channel: dict[str, Any], kind: str) -> httpx.Response:
    with server.admin() as admin:
        return admin.post(
            f"/sandbox/channels/{channel['phone_number_id']}/webhook/probe", json={"kind": kind}
        )


def change_secret(server: Server, channel: dict[str, Any], url: str, secret: str) -> None:
    with server.admin() as admin:
        changed = admin.patch(
            f"/sandbox/channels/{channel['phone_number_id']}",
            json={"settings": {"webhook": {"url": url, "app_secret": secret}}},
        )
    assert changed.status_code == 200, changed.text


def test_a_careful_receiver_refuses_every_bad_webhook(
    server: Server, careful: CarefulReceiver
) -> None:
    webhook = {"url": careful.url, "app_secret": "first-secret", "verify_token": TOKEN}
    channel = new_channel(server, webhook=webhook)
    for kind, status in (("unsigned", 401), ("bad_signature", 401), ("wrong_verify_token", 403)):
        result = probe(server, channel, kind)
        assert result.status_code == 200, result.text
        found = result.json()
        assert found["answer"]["status"] == status, found
        assert not found["flagged"] and "as it should" in found["verdict"], found
    unsigned, badly_signed = careful.bodies[:2]
    assert unsigned[1] is None
    assert badly_signed[1] is not None and badly_signed[1].startswith("sha256=")

    change_secret(server, channel, careful.url, "second-secret")
    careful.secret = "second-secret"
    old = probe(server, channel, "old_secret").json()
    assert (old["answer"]["status"], old["flagged"]) == (401, False), old
    body, given = careful.bodies[-1]
    assert given == "sha256=" + hmac.new(b"first-secret", body, hashlib.sha256).hexdigest()


def test_a_receiver_that_checks_nothing_is_flagged_in_the_log(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook={"url": receiver.url, "app_secret": "s3cret"})
    for kind in ("unsigned", "bad_signature"):
        found = probe(server, channel, kind).json()
        assert found["answer"]["status"] == 200
        assert found["flagged"] and found["verdict"].startswith("FLAGGED"), found
    with server.admin() as admin:
        logged = admin.get(
            "/sandbox/webhooks",
            params={"channel": channel["phone_number_id"], "state": "probe"},
        ).json()["deliveries"]
    assert [d["event"] for d in logged] == ["probe:bad_signature", "probe:unsigned"]
    assert all(d["last_error"].startswith("FLAGGED") for d in logged)
    assert [d["attempts"][0]["http_status"] for d in logged] == [200, 200]
    # The receiver's own verification GET checks the token, so that probe is not flagged.
    token_probe = probe(server, channel, "wrong_verify_token").json()
    assert token_probe["answer"]["status"] == 403 and not token_probe["flagged"]
    assert token_probe["method"] == "GET" and "hub.verify_token=wrong-" in token_probe["url"]
    with server.admin() as admin:
        (logged_get,) = admin.get(
            "/sandbox/webhooks",
            params={"channel": channel["phone_number_id"], "event": "probe:wrong_verify_token"},
        ).json()["deliveries"]
    assert logged_get["payload"]["method"] == "GET"


def test_a_replay_sends_a_delivered_webhook_again_byte_for_byte(
    server: Server, receiver: Receiver
) -> None:
    channel = new_channel(server, webhook={"url": receiver.url, "app_secret": "s3cret"})
    with server.admin() as admin:
        assert (
            admin.post(
                f"/sandbox/channels/{channel['phone_number_id']}/webhook/probe",
                json={"kind": "replay"},
            ).status_code
            == 400
        )  # nothing delivered yet
    wamid = send(server, channel)
    receiver.wait_for(wamid, 1)
    eventually(
        lambda: (
            probe(server, channel, "replay").status_code == 200
            and len(receiver.for_message(wamid)) >= 2
        )
    )
    first, again = receiver.for_message(wamid)[-2:]
    assert again.body == first.body
    assert again.headers["x-hub-signature-256"] == first.headers["x-hub-signature-256"]


def test_probes_need_what_they_test(server: Server) -> None:
    bare = new_channel(server)
    assert_graph_error(probe(server, bare, "unsigned"), status=400, code=100, contains="no webhook")
    unsigned_hooks = new_channel(server, webhook={"url": "http://127.0.0.1:9/x"})
    assert_graph_error(
        probe(server, unsigned_hooks, "bad_signature"), status=400, code=100, contains="app_secret"
    )
    signed = new_channel(server, webhook={"url": "http://127.0.0.1:9/x", "app_secret": "a"})
    assert_graph_error(
        probe(server, signed, "old_secret"), status=400, code=100, contains="never changed"
    )
    assert_graph_error(probe(server, signed, "sql_injection"), status=400, code=100)
    with server.admin() as admin:
        missing = admin.post("/sandbox/channels/999/webhook/probe", json={"kind": "unsigned"})
    assert_graph_error(missing, status=400, code=100, subcode=33)
    unreachable = probe(server, signed, "unsigned").json()
    assert unreachable["answer"]["status"] is None and unreachable["answer"]["error"]
    assert not unreachable["flagged"]
