"""No answer is a ``TransportError`` too: httpx's errors never escape a client call.

Real sockets on loopback: a port nobody listens on, a server that accepts and never
answers, and one that drops the connection halfway through a download.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from wabox.client import AsyncClient, Client, TransportError, WaboxError, WhatsAppError

TO = "16505553700"
JPEG_HEAD = b"\xff\xd8\xff\xe0" + bytes(60)

# One call per way a request leaves the client: the retried GET and DELETE, a send (POST,
# never retried), a streamed upload, and downloads by URL and by ID.
SyncCall = Callable[[Client], object]
AsyncCall = Callable[[AsyncClient], Awaitable[object]]
CALLS: dict[str, tuple[SyncCall, AsyncCall]] = {
    "get_media": (lambda wa: wa.get_media("123"), lambda wa: wa.get_media("123")),
    "delete_media": (lambda wa: wa.delete_media("123"), lambda wa: wa.delete_media("123")),
    "send_text": (lambda wa: wa.send_text(TO, "hi"), lambda wa: wa.send_text(TO, "hi")),
    "mark_read": (lambda wa: wa.mark_read("wamid.x"), lambda wa: wa.mark_read("wamid.x")),
    "upload_media": (
        lambda wa: wa.upload_media(JPEG_HEAD),
        lambda wa: wa.upload_media(JPEG_HEAD),
    ),
    "send_image_path": (
        lambda wa: wa.send_image(TO, path=JPEG_HEAD),
        lambda wa: wa.send_image(TO, path=JPEG_HEAD),
    ),
    "download_url": (
        lambda wa: wa.download_media("https://lookaside.fbsbx.com/x/?hash=secret"),
        lambda wa: wa.download_media("https://lookaside.fbsbx.com/x/?hash=secret"),
    ),
    "download_id": (lambda wa: wa.download_media("123"), lambda wa: wa.download_media("123")),
}


def closed_port() -> str:
    """A loopback URL nobody listens on: a port bound, read and closed again."""
    return f"http://127.0.0.1:{free_port()}"


def assert_translated(error: TransportError, cause: type[httpx.TransportError]) -> None:
    assert isinstance(error, WaboxError) and not isinstance(error, WhatsAppError)
    assert isinstance(error.__cause__, cause), repr(error.__cause__)
    assert type(error.__cause__).__name__ in str(error)
    assert "secret" not in str(error)  # the query (a CDN signature) stays out of the text
    assert isinstance(error, httpx.TransportError)  # `except httpx.TransportError` still works


@pytest.mark.parametrize("call", CALLS)
def test_a_refused_connection_is_a_transport_error(call: str) -> None:
    with (
        Client.for_360dialog("k", base_url=closed_port(), retries=1) as wa,
        pytest.raises(TransportError) as raised,
    ):
        CALLS[call][0](wa)
    assert_translated(raised.value, httpx.ConnectError)
    assert raised.value.request.url.host == "127.0.0.1"


@pytest.mark.parametrize("call", CALLS)
def test_a_refused_connection_is_a_transport_error_async(call: str) -> None:
    async def run() -> TransportError:
        async with AsyncClient.for_360dialog("k", base_url=closed_port(), retries=1) as wa:
            with pytest.raises(TransportError) as raised:
                await CALLS[call][1](wa)
        return raised.value

    assert_translated(asyncio.run(run()), httpx.ConnectError)


@contextlib.contextmanager
def loopback(handle: Callable[[socket.socket], None]) -> Iterator[tuple[str, list[Any]]]:
    """A server on loopback that hands each accepted connection to ``handle``; yields its
    URL and the connections accepted so far."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            handle(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join()
        listener.close()
        for connection in accepted:
            connection.close()


def never_answer(connection: socket.socket) -> None:
    pass  # the connection is kept open (and closed by ``loopback``), the request unread


def truncate_body(connection: socket.socket) -> None:
    """Promise 1000 bytes, send 10, hang up: the connection breaks mid-download."""
    connection.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return
        received += chunk
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n" + bytes(10)
    )
    connection.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize(("call", "attempts"), [("get_media", 2), ("send_text", 1)])
def test_a_read_timeout_is_a_transport_error_after_the_retries(call: str, attempts: int) -> None:
    """A GET is tried again (``retries=1``: two connections); a send is not, since the
    message may have been accepted before the answer was lost."""
    with loopback(never_answer) as (url, accepted):
        with (
            Client.for_360dialog("k", base_url=url, timeout=0.2, retries=1) as wa,
            pytest.raises(TransportError) as raised,
        ):
            CALLS[call][0](wa)
        assert_translated(raised.value, httpx.ReadTimeout)
        assert len(accepted) == attempts


def test_a_read_timeout_is_a_transport_error_async() -> None:
    async def run(url: str) -> TransportError:
        async with AsyncClient.for_360dialog("k", base_url=url, timeout=0.2, retries=1) as wa:
            with pytest.raises(TransportError) as raised:
                await wa.get_media("123")
        return raised.value

    with loopback(never_answer) as (url, accepted):
        assert_translated(asyncio.run(run(url)), httpx.ReadTimeout)
        assert len(accepted) == 2


def test_a_download_cut_short_is_a_transport_error() -> None:
    media = "https://lookaside.fbsbx.com/x/?hash=secret"
    with loopback(truncate_body) as (url, _):
        with (
            Client.for_360dialog("k", base_url=url, retries=0) as wa,
            pytest.raises(TransportError) as raised,
        ):
            wa.download_media(media)
        assert_translated(raised.value, httpx.RemoteProtocolError)

        async def run() -> TransportError:
            async with AsyncClient.for_360dialog("k", base_url=url, retries=0) as wa:
                with pytest.raises(TransportError) as raised:
                    await wa.download_media(media)
            return raised.value

        assert_translated(asyncio.run(run()), httpx.RemoteProtocolError)
