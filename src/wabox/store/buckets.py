"""Rate-limit state: GCRA buckets in this process's memory, or in Redis.

A bucket is one "theoretical arrival time" per key (the generic cell rate algorithm), so a
check is one read and one write. Time is the caller's (the wabox clock), so the virtual
clock moves the buckets too. With ``WABOX_REDIS_URL`` every process of a scaled-out wabox
shares one bucket per key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("wabox.limits")

MAX_KEYS = 100_000  # memory backend: past this, keys whose bucket is full again are dropped


class Buckets(Protocol):
    async def take(self, key: str, interval: float, burst: int, now: float) -> float:
        """Take one cell; 0.0 if allowed, else the seconds until one would be."""

    async def close(self) -> None: ...


def micros(seconds: float) -> int:
    """Times in whole microseconds: sums of 1/rate at epoch magnitudes drift as floats
    (80 cells of 1/80 s must fit in exactly 1 s)."""
    return round(seconds * 1_000_000)


class MemoryBuckets:
    def __init__(self) -> None:
        self._tat: dict[str, int] = {}

    async def take(self, key: str, interval: float, burst: int, now: float) -> float:
        now_us, step = micros(now), max(1, micros(interval))
        tat = max(self._tat.get(key, now_us), now_us)
        wait = tat - now_us - step * (burst - 1)
        if wait > 0:
            return wait / 1_000_000
        if len(self._tat) >= MAX_KEYS:
            self._tat = {k: v for k, v in self._tat.items() if v > now_us}
        self._tat[key] = tat + step
        return 0.0

    async def close(self) -> None:
        self._tat.clear()


# KEYS[1]: the bucket; ARGV: interval, burst, now (microseconds, exact in Lua's doubles).
# The key expires once the bucket is full again.
_GCRA = """
local now = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[3])
local interval = tonumber(ARGV[1])
if tat < now then tat = now end
local wait = tat - now - interval * (tonumber(ARGV[2]) - 1)
if wait > 0 then return string.format('%.0f', wait) end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000) + 1000)
return '0'
"""


class RedisBuckets:
    """One Lua script per check: atomic across processes, one round trip.

    With Redis unreachable the limits fail open: the request is allowed, ``on_fail_open``
    counts it (``/metrics``) and a warning is logged at most every ``WARN_EVERY`` seconds.
    A sandbox that refuses sends because its rate limiter is down helps nobody.
    """

    TIMEOUT = 1.0  # seconds Redis has to answer before a check fails open
    WARN_EVERY = 10.0

    def __init__(self, url: str, on_fail_open: Callable[[], None] = lambda: None) -> None:
        import redis.asyncio  # only scaled-out deployments need it loaded

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._redis = redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=self.TIMEOUT, socket_timeout=self.TIMEOUT
        )
        self._script = self._redis.register_script(_GCRA)
        self._on_fail_open = on_fail_open
        self._warned_at = -self.WARN_EVERY

    async def take(self, key: str, interval: float, burst: int, now: float) -> float:
        args = [max(1, micros(interval)), burst, micros(now)]
        try:
            answer = await self._script(keys=[f"wabox:gcra:{key}"], args=args)
        except self._errors as exc:
            self._on_fail_open()
            if time.monotonic() - self._warned_at >= self.WARN_EVERY:
                self._warned_at = time.monotonic()
                log.warning("Redis unreachable, rate limits not applied: %s", exc)
            return 0.0
        return int(answer) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()
