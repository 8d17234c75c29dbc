"""Per-channel request limits (wire-facts §2.6: 360dialog allows 25 uploads/s per number).

The same buckets as the message throughput limits (``store/buckets.py``): on the
wabox clock, and shared by every process through Redis when ``WABOX_REDIS_URL`` is set.
"""

from __future__ import annotations

from wabox.store.buckets import Buckets


class PerChannelLimit:
    """``per_second`` requests per channel, a second's worth at once; 0 means no limit."""

    def __init__(self, buckets: Buckets, name: str, per_second: int) -> None:
        self._buckets = buckets
        self._name = name
        self._per_second = per_second

    async def allow(self, channel_id: str, now: float) -> bool:
        if self._per_second <= 0:
            return True
        rate = self._per_second
        return await self._buckets.take(f"{self._name}:{channel_id}", 1 / rate, rate, now) == 0
