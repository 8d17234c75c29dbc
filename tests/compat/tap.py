"""A recording pass-through on loopback: every request a client library makes goes through it
to the real wabox server, byte for byte, and is kept so a test can check the real wire.

It forwards the method, path, headers (``Host`` included, so wabox builds its download URLs
for the tap's address and the download goes through the tap too) and body unchanged, and
answers with wabox's status, headers and body. Only hop-by-hop framing is redone.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass
class Exchange:
    """One request as the client sent it, and wabox's answer."""

    method: str
    target: str  # path and query, as on the request line
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.body)

    @property
    def response_json(self) -> Any:
        import json

        return json.loads(self.response_body)

    def describe(self) -> str:
        """For failure messages: the request and the answer, readable."""
        shown = self.body if len(self.body) < 2000 else self.body[:2000] + b"..."
        return (
            f"{self.method} {self.target}\n"
            + "".join(f"{k}: {v}\n" for k, v in self.headers.items())
            + f"\n{shown!r}\n-> {self.status} {self.response_body[:2000]!r}"
        )


class Tap:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        tap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(out)
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def _forward(self) -> None:
                body = self._body()
                sent = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                if body or self.command in ("POST", "PUT", "PATCH"):
                    sent["Content-Length"] = str(len(body))
                connection = http.client.HTTPConnection(target_host, target_port, timeout=30)
                try:
                    connection.request(self.command, self.path, body=body or None, headers=sent)
                    answer = connection.getresponse()
                    answer_body = answer.read()
                    answer_headers = [
                        (k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP
                    ]
                    status, reason = answer.status, answer.reason
                finally:
                    connection.close()
                with tap._lock:
                    tap.exchanges.append(
                        Exchange(
                            method=self.command,
                            target=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            status=status,
                            response_headers={k.lower(): v for k, v in answer_headers},
                            response_body=answer_body,
                        )
                    )
                self.send_response(status, reason)
                for name, value in answer_headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer_body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer_body)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges[mark:])

    def mark(self) -> int:
        with self._lock:
            return len(self.exchanges)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def running_tap(target_port: int) -> Iterator[Tap]:
    tap = Tap(target_port)
    try:
        yield tap
    finally:
        tap.close()
