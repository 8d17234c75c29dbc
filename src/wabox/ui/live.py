"""Live updates: one Server-Sent Events stream per open page, read by ``static/live.js``.

The store is polled, not subscribed to, so a change made by any process shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wabox.store.inbox import change_marker
from wabox.ui.signin import signed_in

POLL = 0.3  # seconds between looks for changes, per open page
# At most one refresh a second per page: under a load test the store changes all the time,
# and each refresh reads the customer list and the chat again.
MIN_GAP = 1.0
KEEPALIVE = 15.0


async def events(request: Request) -> Response:
    """``change`` whenever the store changed: the page then fetches what it shows again."""
    runtime = signed_in(request)

    async def stream() -> AsyncIterator[bytes]:
        last = await change_marker(runtime.database)
        quiet = 0.0
        sent_at = 0.0
        yield b"retry: 1000\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(max(POLL, sent_at + MIN_GAP - time.monotonic()))
            marker = await change_marker(runtime.database)
            if marker != last:
                last, quiet, sent_at = marker, 0.0, time.monotonic()
                yield b"event: change\ndata: {}\n\n"
            else:
                quiet += POLL
                if quiet >= KEEPALIVE:
                    quiet = 0.0
                    yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
