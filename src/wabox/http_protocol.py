"""uvicorn's httptools protocol, handing a request body to the app without copying it.

Since uvicorn 0.42 (Kludex/uvicorn#2845) every body piece is appended to a ``bytearray``
and ``receive()`` returns ``bytes(that)``: two copies of every byte of an upload before
the app sees it, about 0.2 ms per MiB on the loop thread. When the app has already taken
what came before, which is the usual case for a streamed upload, the piece httptools
produced is stored as it is, and ``bytes()`` of a ``bytes`` object returns that object.
Pieces that arrive while earlier ones wait still grow one ``bytearray`` in place, so a
body cut into many small chunks stays linear, and flow control is uvicorn's own.
"""

from __future__ import annotations

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BodyPassingProtocol(HttpToolsProtocol):
    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.body or cycle.response_complete or self.parser.should_upgrade():
            if not isinstance(cycle.body, bytearray):  # a piece stored below: grow in place now
                cycle.body = bytearray(cycle.body)
            super().on_body(body)
            return
        # RequestResponseCycle.receive() sends bytes(cycle.body): this very object.
        cycle.body = body  # type: ignore[assignment]
        if len(body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()
