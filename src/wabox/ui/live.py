"""Live updates: one Server-Sent Events stream per open page, read by ``static/live.js``.

A page is told to refresh when the store's change marker moved. The marker is read when
a signal says messages changed, here or in another process on the database
(``store/signals.py``), and every ``FALLBACK`` seconds in case a signal was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wabox.store.inbox import change_marker
from wabox.ui.signin import signed_in

FALLBACK = 2.0  # seconds between looks when no signal came
# At most one refresh a second per page: under a load test the store changes all the time,
# and each refresh reads the customer list and the chat again.
MIN_GAP = 1.0
KEEPALIVE = 15.0


async def events(request: Request) -> Response:
    """``change`` whenever the store changed: the page then fetches what it shows again."""
    runtime = signed_in(request)

    async def stream() -> AsyncIterator[bytes]:
        with runtime.database.signals.watching("messages") as changed:
            # What the page shows was read before this stream began; whatever changed in
            # between (or while a lost connection was being retried) is unknown, so the
            # first look always refreshes it.
            last: tuple[Any, ...] | None = None
            sent_at = 0.0
            quiet_since = time.monotonic()
            yield b"retry: 1000\n\n"
            while not await request.is_disconnected():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), FALLBACK)
                changed.clear()
                await asyncio.sleep(max(0.0, sent_at + MIN_GAP - time.monotonic()))
                marker = await change_marker(runtime.database)
                if marker != last:
                    last, sent_at = marker, time.monotonic()
                    quiet_since = sent_at
                    yield b"event: change\ndata: {}\n\n"
                elif time.monotonic() - quiet_since >= KEEPALIVE:
                    quiet_since = time.monotonic()
                    yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
