"""A real origin HTTP server on loopback that serves assets and counts what it is asked."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Asset:
    """What one path answers. Conditional requests get a 304 when their validator matches."""

    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    reason: str | None = None
    delay: float = 0.0  # before the status line
    chunked: bool = False  # no Content-Length: the body arrives chunked
    honour_conditionals: bool = True


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class Origin:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.assets: dict[str, Asset] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                origin._answer(self)

        self.host = host
        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", **asset: object) -> str:
        self.assets[path.partition("?")[0]] = Asset(body=body, **asset)  # type: ignore[arg-type]
        return self.url(path)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen in self.requests if seen.path == path)

    def seen(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [seen.headers for seen in self.requests if seen.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self.requests.append(Seen(handler.path, headers))
        asset = self.assets.get(handler.path.partition("?")[0])
        if asset is None:
            asset = Asset(b"no such asset", {"Content-Type": "text/plain"}, 404)
        if asset.delay:
            time.sleep(asset.delay)
        status, body = asset.status, asset.body
        sent = {name.lower(): value for name, value in asset.headers.items()}
        if asset.honour_conditionals and status == 200 and _not_modified(headers, sent):
            status, body = 304, b""
        try:
            handler.send_response(status, asset.reason)
            for name, value in asset.headers.items():
                handler.send_header(name, value)
            if asset.chunked and status != 304:
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                for start in range(0, len(body), 64 * 1024):
                    piece = body[start : start + 64 * 1024]
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                handler.wfile.write(b"0\r\n\r\n")
                return
            if "content-length" not in sent:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if status != 304:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _not_modified(request: dict[str, str], response: dict[str, str]) -> bool:
    if "if-none-match" in request and "etag" in response:
        return request["if-none-match"] == response["etag"]
    if "if-modified-since" in request and "last-modified" in response:
        return request["if-modified-since"] == response["last-modified"]
    return False


@contextlib.contextmanager
def running_origin(host: str = "127.0.0.1") -> Iterator[Origin]:
    origin = Origin(host)
    try:
        yield origin
    finally:
        origin.close()


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: connecting to it hangs until the client gives up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        yield port
    finally:
        filler.close()
        listener.close()
