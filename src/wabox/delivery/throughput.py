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

from wabox.errors import PairRateLimit, ThroughputLimit
from wabox.schema.sandbox import Channel
from wabox.store.buckets import Buckets

PAIR_INTERVAL = 6.0
PAIR_BURST = 45
THROUGHPUT_DETAILS = "Cloud API message throughput has been reached."
PAIR_DETAILS = (
    "Message failed to send because there were too many messages sent from this phone "
    "number to the same phone number in a short period of time."
)


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
