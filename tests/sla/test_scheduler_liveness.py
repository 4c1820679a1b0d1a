"""Whose unpublished firings another replica may take over (ADR 0025), over the fakes and the
real store: a dead replica's within the staleness bound, a live slow one's never, a cleanly
stopped one's at once; the lease's `until` stays a backstop."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from servicekit.clock import FakeClock
from sla.adapters.liveness import InMemoryLiveness
from sla.clocks.liveness import beat_forever
from sla.clocks.scheduler import Scheduler
from tests._builders.sla import RECEIVED, Rig, cid_n, clock_entry
from tests.sla.contract import Adapters

BEAT = timedelta(seconds=0.2)
STALE = timedelta(seconds=0.6)  # the scheduler's default `ClaimRule`


async def claimed_then_failed(adapters: Adapters, owner: str) -> tuple[Rig, Scheduler]:
    """Three cases whose 50 % warning `owner` recorded (its beat fresh) and failed to publish."""
    rig = Rig(cases=adapters.cases(), index=adapters.due_index(), liveness=adapters.liveness())
    await rig.seed(*((cid_n(n), [clock_entry()]) for n in range(1, 4)))
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    replica = rig.scheduler(owner)
    await rig.liveness.beat(owner, now=rig.clock.now())
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await replica.run_once()
    for n in range(1, 4):
        assert (await rig.record(cid_n(n))).unpublished != ()
    return rig, replica


def once_each(rig: Rig) -> Counter[str]:
    return Counter(e.id for e in rig.publisher.events)


async def test_a_dead_replica_s_claims_are_taken_over_once_its_beat_is_stale(
    adapters: Adapters,
) -> None:
    rig, _ = await claimed_then_failed(adapters, "dead")
    survivor = rig.scheduler("survivor", adapters.due_index())
    await rig.liveness.beat("survivor", now=rig.clock.now())
    rig.clock.advance(STALE)  # the dead replica's last beat is just within the bound
    assert await survivor.run_once() == 0
    assert rig.publisher.events == []
    rig.clock.advance(BEAT)  # 0.8 s after its last beat: well within one second
    assert await survivor.run_once() == 0  # republished, not fired again
    assert len(rig.publisher.sla) == 3
    assert set(once_each(rig).values()) == {1}
    for n in range(1, 4):
        assert (await rig.record(cid_n(n))).unpublished == ()


async def test_a_live_slow_replica_keeps_its_claims(adapters: Adapters) -> None:
    rig, slow = await claimed_then_failed(adapters, "slow")
    survivor = rig.scheduler("survivor", adapters.due_index())
    for _ in range(25):  # five seconds: the slow replica beats, the survivor keeps visiting
        rig.clock.advance(BEAT)
        await rig.liveness.beat("slow", now=rig.clock.now())
        assert await survivor.run_once() == 0
    assert rig.publisher.events == []
    assert await slow.run_once() == 0  # its own publish, repeated by itself
    assert len(rig.publisher.sla) == 3
    assert await survivor.run_once() == 0
    assert set(once_each(rig).values()) == {1}


async def test_a_clean_stop_frees_the_claims_at_once(adapters: Adapters) -> None:
    rig, stopping = await claimed_then_failed(adapters, "stopping")
    survivor = rig.scheduler("survivor", adapters.due_index())
    assert await survivor.run_once() == 0
    assert rig.publisher.events == []
    await stopping.leave()
    assert await survivor.run_once() == 0  # same instant: republished
    assert len(rig.publisher.sla) == 3
    assert set(once_each(rig).values()) == {1}


async def test_a_beating_replica_that_never_publishes_loses_its_claims_at_the_lease_end(
    adapters: Adapters,
) -> None:
    rig, _ = await claimed_then_failed(adapters, "stuck")
    survivor = rig.scheduler("survivor", adapters.due_index())
    rig.clock.advance(timedelta(seconds=29.9))
    await rig.liveness.beat("stuck", now=rig.clock.now())
    assert await survivor.run_once() == 0
    assert rig.publisher.events == []
    rig.clock.advance(timedelta(seconds=0.2))  # the 30 s lease has passed, the beat is fresh
    await rig.liveness.beat("stuck", now=rig.clock.now())
    assert await survivor.run_once() == 0
    assert len(rig.publisher.sla) == 3


async def test_beat_forever_renews_the_beat_until_cancelled() -> None:
    liveness, clock = InMemoryLiveness(), FakeClock(RECEIVED)
    task = asyncio.create_task(beat_forever(liveness, "a", clock=clock, every=0.01))
    await asyncio.sleep(0.03)
    assert liveness.last == {"a": RECEIVED}
    clock.advance(BEAT)
    await asyncio.sleep(0.03)
    assert liveness.last == {"a": RECEIVED + BEAT}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    clock.advance(BEAT)
    await asyncio.sleep(0.03)
    assert liveness.last == {"a": RECEIVED + BEAT}  # a killed replica beats no more
