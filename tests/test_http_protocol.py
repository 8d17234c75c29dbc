"""The body-passing uvicorn protocol: the app gets every byte, without copies when it keeps up."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.server import ServerState

from tests.helpers import aeventually
from wabox.http_protocol import BodyPassingProtocol


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True
        self.paused_once = False
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 9000)}.get(name)

    def write(self, data: Any) -> None:
        self.written += data

    def pause_reading(self) -> None:
        self.reading, self.paused_once = False, True

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


class Recording(BodyPassingProtocol):
    """Remembers the objects httptools hands over, to check which ones reach the app."""

    seen: list[bytes]

    def on_body(self, body: bytes) -> None:
        self.seen.append(body)
        super().on_body(body)


async def exchange(
    head: bytes, pieces: list[bytes], *, drain: bool
) -> tuple[list[bytes], Recording]:
    """Feed the request; with ``drain`` the app runs between pieces, as on a real socket."""
    received: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            received.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    config = Config(app=app, lifespan="off", log_level="warning")
    config.load()
    protocol = Recording(config=config, server_state=ServerState(), app_state={})
    protocol.seen = []
    transport = Transport()
    protocol.connection_made(transport)
    protocol.data_received(head)
    for piece in pieces:
        protocol.data_received(piece)
        if drain:  # the app takes what came
            await aeventually(lambda: not protocol.cycle.body, interval=0)
    await aeventually(lambda: transport.written.startswith(b"HTTP/1.1 200 OK"), interval=0)
    assert transport.reading
    return received, protocol


def post(length: int) -> bytes:
    return b"POST /media HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length


def test_a_body_the_app_keeps_up_with_arrives_uncopied() -> None:
    pieces = [os.urandom(256 * 1024) for _ in range(4)]
    received, protocol = asyncio.run(exchange(post(4 * 256 * 1024), pieces, drain=True))
    assert b"".join(received) == b"".join(pieces)
    for got, handed in zip((body for body in received if body), protocol.seen, strict=True):
        assert got is handed


def test_pieces_that_wait_are_joined_in_order() -> None:
    pieces = [os.urandom(size) for size in (10, HIGH_WATER_LIMIT, 70_000, 1)]
    body = b"".join(pieces)
    received, protocol = asyncio.run(exchange(post(len(body)), pieces, drain=False))
    assert b"".join(received) == body
    assert all(type(piece) is bytes for piece in received)
    assert isinstance(protocol.transport, Transport) and protocol.transport.paused_once


def test_a_body_in_many_small_chunks() -> None:
    """Chunked encoding: hundreds of on_body calls from one read, grown in place."""
    chunks = [os.urandom(256) for _ in range(800)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    head = b"POST /media HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for drain in (False, True):
        received, _ = asyncio.run(exchange(head, [encoded], drain=drain))
        assert b"".join(received) == b"".join(chunks)
