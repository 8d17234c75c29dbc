"""Rate-limit state: GCRA buckets in this process's memory, or in Redis.

A bucket is one "theoretical arrival time" per key (the generic cell rate algorithm), so a
check is one read and one write. Time is the caller's (the wabox clock), so the virtual
clock moves the buckets too. With ``WABOX_REDIS_URL`` every process of a scaled-out wabox
shares one bucket per key.
"""

from __future__ import annotations

from typing import Protocol

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
    """One Lua script per check: atomic across processes, one round trip."""

    def __init__(self, url: str) -> None:
        import redis.asyncio  # only scaled-out deployments need it loaded

        self._redis = redis.asyncio.Redis.from_url(url)
        self._script = self._redis.register_script(_GCRA)

    async def take(self, key: str, interval: float, burst: int, now: float) -> float:
        args = [max(1, micros(interval)), burst, micros(now)]
        answer = await self._script(keys=[f"wabox:gcra:{key}"], args=args)
        return int(answer) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()
