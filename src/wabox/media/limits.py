"""Per-channel request limits (wire-facts §2.6: 360dialog allows 25 uploads/s per number)."""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class PerChannelLimit:
    """``per_second`` hits per channel in any one-second window; 0 means no limit.

    In memory for now, so per process; the scale-out issue moves it to Redis when
    ``WABOX_REDIS_URL`` is set (``limits`` speaks both).
    """

    def __init__(self, name: str, per_second: int) -> None:
        self._name = name
        self._item = RateLimitItemPerSecond(per_second) if per_second > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def allow(self, channel_id: str) -> bool:
        if self._item is None:
            return True
        return await self._limiter.hit(self._item, self._name, channel_id)
