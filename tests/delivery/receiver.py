"""A real webhook receiver on loopback: records every POST, answers as told."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers import eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_status(self) -> bool:
        return "statuses" in self.json["entry"][0]["changes"][0]["value"]

    @property
    def status(self) -> dict[str, Any]:
        statuses: list[dict[str, Any]] = self.json["entry"][0]["changes"][0]["value"]["statuses"]
        return statuses[0]


class Receiver:
    """``answers`` are used in order for POSTs (then ``default``); ``delay`` slows each one."""

    def __init__(self, port: int = 0, verify_token: str = "let-me-in") -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque()
        self.default = 200
        self.delay = 0.0
        self.posts = 0  # POSTs begun, answered or not
        self.verify_token = verify_token
        self.verifications: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                receiver.verifications.append(query)
                ok = query.get("hub.verify_token") == [receiver.verify_token]
                body = query["hub.challenge"][0].encode() if ok else b"wrong token"
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.posts += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.answers.popleft() if receiver.answers else receiver.default
                    if 200 <= status < 300:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        receiver.received.append(
                            Received(self.path, headers, body, time.monotonic())
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def statuses(self, wamid: str) -> list[str]:
        return [r.status["status"] for r in self.for_message(wamid)]

    def for_message(self, wamid: str) -> list[Received]:
        """The status webhooks of one message (inbound messages' webhooks are skipped)."""
        with self._lock:
            return [r for r in self.received if r.is_status and r.status["id"] == wamid]

    def inbound(self, wamid: str) -> Received | None:
        """The ``messages`` webhook of one inbound message, once it has come."""
        with self._lock:
            received = list(self.received)
        for record in received:
            value = record.json["entry"][0]["changes"][0]["value"]
            if value.get("messages", [{}])[0].get("id") == wamid:
                return record
        return None

    def wait_for(self, wamid: str, count: int, timeout: float = 10) -> list[Received]:
        """The status webhooks of one message, once at least ``count`` have come."""

        def arrived() -> list[Received]:
            found = self.for_message(wamid)
            assert len(found) >= count, [r.status["status"] for r in found]
            return found

        return eventually(arrived, timeout=timeout, what=f"{count} status webhooks of {wamid}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def running_receiver(port: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(port)
    try:
        yield receiver
    finally:
        receiver.close()
