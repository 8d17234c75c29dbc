"""The platform's time: real, or virtual so that tests of delays never sleep.

Every timestamp the platform shows (message events, webhook ``timestamp``s, media expiry,
download URL expiry, link cache freshness, retry schedules) comes from ``Clock.now``.
The virtual clock starts at the wall time of the first start, moves only when
``POST /sandbox/clock/advance`` says so, and is persisted so a restart resumes where it
stood; every process on the database follows an advance made by any of them
(``runtime``). Workers wait with ``sleep_until``; an advance wakes them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Literal

ClockMode = Literal["real", "virtual"]


class Clock:
    def __init__(self, mode: ClockMode = "real", start: float | None = None) -> None:
        self.mode = mode
        self._now = time.time() if start is None else start
        self._listeners: set[asyncio.Event] = set()

    @property
    def virtual(self) -> bool:
        return self.mode == "virtual"

    def now(self) -> float:
        return self._now if self.virtual else time.time()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward and wake every sleeper; returns the new time."""
        if not self.virtual:
            raise ValueError("the clock is real; start wabox with WABOX_CLOCK=virtual")
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds
        self._wake_all()
        return self._now

    def catch_up(self, now: float) -> None:
        """Virtual time was moved to ``now`` elsewhere (another process): follow it."""
        if self.virtual and now > self._now:
            self._now = now
            self._wake_all()

    def _wake_all(self) -> None:
        for event in self._listeners:
            event.set()

    async def sleep_until(
        self, deadline: float | None, wake: asyncio.Event, poll: float | None = None
    ) -> None:
        """Return at ``deadline`` (None: never by itself), when ``wake`` is set, or, for
        the virtual clock, when time is advanced; ``wake`` is cleared on return. ``poll``:
        return after that many real seconds at the latest, whatever the clock, so work
        another process made is found without a wake-up."""
        try:
            if self.virtual:
                self._listeners.add(wake)
                if deadline is None or deadline > self._now:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), poll)
                return
            timeout = None if deadline is None else max(0.0, deadline - time.time())
            if poll is not None:
                timeout = poll if timeout is None else min(timeout, poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
        finally:
            self._listeners.discard(wake)
            wake.clear()
