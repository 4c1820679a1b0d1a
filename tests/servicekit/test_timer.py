"""The due-time loop shared by the SLA scheduler and the notifier's dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from servicekit.clock import FakeClock
from servicekit.timer import DueLoop

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def loop(scale: float = 1.0) -> DueLoop:
    return DueLoop(name="t", clock=FakeClock(NOW), max_sleep=0.5, min_sleep=0.05, time_scale=scale)


@pytest.mark.parametrize(
    ("upcoming", "scale", "expected"),
    [
        (None, 1.0, 0.5),  # nothing known: the longest nap
        (NOW + timedelta(seconds=0.2), 1.0, 0.2),
        (NOW + timedelta(seconds=10), 1.0, 0.5),
        (NOW - timedelta(seconds=3), 1.0, 0.05),  # overdue: the shortest nap
        (NOW + timedelta(seconds=60), 600.0, 0.1),  # a business minute at 600×
    ],
)
def test_naps_until_the_next_due_time_within_bounds(
    upcoming: datetime | None, scale: float, expected: float
) -> None:
    assert loop(scale).delay(upcoming) == pytest.approx(expected)


async def test_full_rounds_repeat_at_once_and_failures_are_retried() -> None:
    timer = loop()
    answers = iter([True, True, RuntimeError("db away"), False])
    rounds = 0
    done = asyncio.Event()

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        if rounds == 4:
            done.set()
        return answer

    async def next_due() -> datetime | None:
        return None

    task = asyncio.create_task(timer.run(round_, next_due))
    # Two full rounds at once, a failure (retried after a pause), one more round, then a nap.
    await asyncio.wait_for(done.wait(), timeout=10.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rounds == 4


async def test_wake_cuts_a_nap_short() -> None:
    timer = loop()
    timer.max_sleep = 30.0
    napping = asyncio.create_task(timer.nap(None))
    await asyncio.sleep(0.05)
    timer.wake()
    await asyncio.wait_for(napping, timeout=1.0)


async def test_a_wake_naming_a_time_after_the_nap_leaves_it_alone() -> None:
    timer = loop()
    timer.max_sleep = 0.3
    napping = asyncio.create_task(timer.nap(None))  # ends 0.3 s from NOW (a fake clock)
    await asyncio.sleep(0.05)
    timer.wake(NOW + timedelta(seconds=2))  # due after the nap ends anyway: no round for it
    await asyncio.sleep(0.05)
    assert not napping.done()
    timer.wake(NOW + timedelta(seconds=0.1))  # due before it ends: wake now
    await asyncio.wait_for(napping, timeout=1.0)


async def test_a_due_time_named_during_a_round_shortens_the_next_nap() -> None:
    clock = FakeClock(NOW)
    timer = DueLoop(name="t", clock=clock, max_sleep=30.0, min_sleep=0.01)
    rounds: list[float] = []

    async def round_() -> bool:
        rounds.append(asyncio.get_running_loop().time())
        if len(rounds) == 1:  # written after this round read: only the wake says it
            timer.wake(NOW + timedelta(seconds=0.1))
        return False

    async def next_due() -> datetime | None:
        return None  # the round's read saw nothing ahead

    task = asyncio.create_task(timer.run(round_, next_due))
    await asyncio.sleep(0.5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(rounds) >= 2
    assert rounds[1] - rounds[0] < 1.0  # not the 30 s nap: the named due time


async def test_a_plain_wake_during_a_round_is_dropped() -> None:
    timer = DueLoop(name="t", clock=FakeClock(NOW), max_sleep=0.3, min_sleep=0.01)
    rounds = 0

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        timer.wake()  # a round that wakes its own loop must not spin
        return False

    async def next_due() -> datetime | None:
        return None

    task = asyncio.create_task(timer.run(round_, next_due))
    await asyncio.sleep(0.45)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rounds == 2  # at 0 and after one whole 0.3 s nap
