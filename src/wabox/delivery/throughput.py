"""Meta's throughput limits, enforced synchronously at send (wire-facts §7, §4.4).

Two limits, each a GCRA (generic cell rate algorithm: a token bucket kept as one
"theoretical arrival time" per key, so a check is one read and one write):

- per channel: ``throughput`` messages per second (Meta's default 80, up to 1,000), with
  a burst of one second's worth → HTTP 400, code 130429;
- per (channel, customer) pair: one message per 6 seconds, with bursts of up to 45
  that borrow future quota → HTTP 400, code 131056.

Time is the wabox clock's, so the virtual clock moves the buckets too. The state is in
this process's memory, or in Redis when ``WABOX_REDIS_URL`` is set, so that every
process of a scaled-out wabox shares one bucket per key.
"""

from __future__ import annotations

from typing import Protocol

from wabox.api.errors import PairRateLimit, ThroughputLimit
from wabox.schema.sandbox import Channel

PAIR_INTERVAL = 6.0
PAIR_BURST = 45
THROUGHPUT_DETAILS = "Cloud API message throughput has been reached."
PAIR_DETAILS = (
    "Message failed to send because there were too many messages sent from this phone "
    "number to the same phone number in a short period of time."
)
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


class Throughput:
    def __init__(self, buckets: Buckets) -> None:
        self._buckets = buckets

    async def admit(self, channel: Channel, wa_id: str, now: float) -> None:
        """Count one outbound message, or raise the limit it would break."""
        settings = channel.settings
        if settings.throughput is not None:
            rate = settings.throughput
            key = f"channel:{channel.phone_number_id}"
            if await self._buckets.take(key, 1.0 / rate, rate, now) > 0:
                raise ThroughputLimit(THROUGHPUT_DETAILS)
        if settings.pair_rate_limit:
            key = f"pair:{channel.phone_number_id}:{wa_id}"
            if await self._buckets.take(key, PAIR_INTERVAL, PAIR_BURST, now) > 0:
                raise PairRateLimit(PAIR_DETAILS)
