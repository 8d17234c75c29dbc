"""The webhook retry schedule (``backoff``), without a server.

tests/delivery/test_webhooks.py watches real retries on the virtual clock; this pins the
schedule itself down: the first retry within a second, each step twice the one before, an
hour at most, and every wait jittered to between half and all of its step.
"""

from __future__ import annotations

import pytest

from wabox.webhooks.dispatcher import MAX_BACKOFF, backoff

SAMPLES = 2000  # the chance that none lands within 5 % of the step of an end: 0.9**2000


def waits(attempts: int) -> list[float]:
    return [backoff(attempts) for _ in range(SAMPLES)]


def test_the_first_retry_comes_within_a_second() -> None:
    found = waits(1)
    assert all(0.5 <= wait <= 1.0 for wait in found), (min(found), max(found))


@pytest.mark.parametrize("attempts", range(1, 13))
def test_each_step_doubles_and_is_jittered_over_its_upper_half(attempts: int) -> None:
    step = 2.0 ** (attempts - 1)  # 1, 2, 4, … 2048 s
    found = waits(attempts)
    assert all(step / 2 <= wait <= step for wait in found), (step, min(found), max(found))
    assert min(found) < step * 0.55 and max(found) > step * 0.95  # spread over all of it


@pytest.mark.parametrize("attempts", [13, 14, 40, 300, 5000])
def test_steps_stop_growing_at_an_hour(attempts: int) -> None:
    assert MAX_BACKOFF == 3600
    found = waits(attempts)
    assert all(1800 <= wait <= 3600 for wait in found), (min(found), max(found))
    assert min(found) < 1800 * 1.1 and max(found) > 3600 * 0.95
