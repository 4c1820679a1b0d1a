"""Claiming ahead (ADR 0034), over the fakes and the real store: the reader loads what falls due
within the lead and nothing beyond it, nothing fires before its instant, a wave fires it once,
a case fired goes back to pending as it now reads, two replicas firing at the same instant
publish each threshold once, and an entry read ahead is never settled before it is due."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sla.clocks.scheduler import Scheduler
from tests._builders.sla import CID, RECEIVED, Rig, cid_n, clock_entry
from tests.sla.contract import Adapters

LEAD = timedelta(seconds=2)  # SLA_CLAIM_AHEAD_SECONDS=2 (off by default), real = business time
AT_50 = RECEIVED + timedelta(minutes=30)  # clock_entry(): 60 min, thresholds 50 and 100 %


async def rig_with(adapters: Adapters, *cases: str, percents: tuple[int, ...] = (50, 100)) -> Rig:
    rig = Rig(cases=adapters.cases(), index=adapters.due_index(), liveness=adapters.liveness())
    await rig.seed(*((cid, [clock_entry(percents=percents)]) for cid in cases))
    return rig


def reading_ahead(scheduler: Scheduler, lead: timedelta = LEAD) -> Scheduler:
    """The scheduler as `SLA_CLAIM_AHEAD_SECONDS` configures it."""
    scheduler.claim_ahead, scheduler.lead = lead.total_seconds(), lead
    return scheduler


async def fire_ready(scheduler: Scheduler) -> bool:
    """One wave of whatever is due by now, awaited; False if nothing was."""
    wave = scheduler.ahead().start_ready()
    if wave is None:
        return False
    await wave
    return True


async def test_what_falls_due_within_the_lead_is_loaded_and_fired_at_its_instant(
    adapters: Adapters,
) -> None:
    rig = await rig_with(adapters, CID)
    scheduler = reading_ahead(rig.scheduler("a"))
    rig.clock.set(AT_50 - LEAD - timedelta(seconds=1))  # beyond the lead: not read
    await scheduler.ahead().read()
    assert scheduler.ahead().pending == {}
    rig.clock.set(AT_50 - LEAD + timedelta(seconds=0.5))
    await scheduler.ahead().read()
    assert list(scheduler.ahead().pending) == [CID]
    assert not await fire_ready(scheduler)  # not due yet: nothing fires early
    assert rig.publisher.sla == []
    rig.clock.set(AT_50)
    assert await fire_ready(scheduler)
    assert [(e.data.threshold, e.data.fired_at) for e in rig.publisher.sla] == [(50, AT_50)]
    assert (await rig.record()).unpublished == ()


async def test_a_case_fired_goes_back_to_pending_as_it_now_reads(adapters: Adapters) -> None:
    rig = Rig(cases=adapters.cases(), index=adapters.due_index(), liveness=adapters.liveness())
    await rig.seed((CID, [clock_entry(percents=(50, 51, 100), minutes=1)]))  # 51 %: 0.6 s on
    scheduler = reading_ahead(rig.scheduler("a"))
    at_50, at_51 = RECEIVED + timedelta(seconds=30), RECEIVED + timedelta(seconds=30.6)
    rig.clock.set(at_50)
    await scheduler.ahead().read()
    assert await fire_ready(scheduler)
    held = scheduler.ahead().pending[CID]  # within the lead: back without a load
    stored = await rig.record()
    assert held.due == at_51
    assert held.record is not None
    assert (held.record.version, held.record.unpublished) == (stored.version, ())
    rig.clock.set(at_51)
    assert await fire_ready(scheduler)
    assert [e.data.threshold for e in rig.publisher.sla] == [50, 51]
    assert len({e.id for e in rig.publisher.sla}) == 2


async def test_two_replicas_firing_at_one_instant_publish_each_threshold_once(
    adapters: Adapters,
) -> None:
    cases = [cid_n(n) for n in range(1, 6)]
    rig = await rig_with(adapters, *cases)
    a = reading_ahead(rig.scheduler("a"))
    b = reading_ahead(rig.scheduler("b", adapters.due_index()))
    for replica in (a, b):
        await rig.liveness.beat(replica.owner, now=AT_50)
    rig.clock.set(AT_50 - timedelta(seconds=1))
    for replica in (a, b):
        await replica.ahead().read()
    rig.clock.set(AT_50)
    waves = [w for r in (a, b) if (w := r.ahead().start_ready()) is not None]
    assert len(waves) == 2
    for wave in waves:
        await wave
    assert Counter((e.data.complaint_id, e.data.threshold) for e in rig.publisher.sla) == {
        (cid, 50): 1 for cid in cases
    }
    # Whichever lost a case leaves it to the winner for the retry, then settles it unfired.
    rig.clock.advance(timedelta(seconds=1))
    for replica in (a, b):
        await replica.liveness.beat(replica.owner, now=rig.clock.now())
        await replica.ahead().read()
        await fire_ready(replica)
    assert len(rig.publisher.sla) == len(cases)
    assert len({e.id for e in rig.publisher.sla}) == len(cases)


async def test_an_entry_read_ahead_is_not_settled_by_an_earlier_visit(adapters: Adapters) -> None:
    # Replica `a` fires the 50 % and indexes the 51 %, 36 s later; `b`, reading 40 s ahead,
    # visits the case for the 50 % (nothing left to fire) with the 51 % entry in hand. Had
    # that visit settled the 51 % entry, nobody would fire it once `a` is gone.
    rig = await rig_with(adapters, CID, percents=(50, 51, 100))
    a = rig.scheduler("a")
    b = reading_ahead(rig.scheduler("b", adapters.due_index()), timedelta(seconds=40))
    rig.clock.set(AT_50)
    assert await a.run_once() == 1
    rig.clock.advance(timedelta(seconds=1))
    await b.ahead().read()
    # Over the real store `b` has its own index view: its 50 % entry is due, the 51 % with it.
    # (The fake index is one for both replicas: `a` settled the 50 % for `b` too.)
    assert [e[2] for _, e in b.ahead().pending[CID].entries][-1] == 51
    await fire_ready(b)
    assert [e.data.threshold for e in rig.publisher.sla] == [50]
    rig.clock.set(RECEIVED + timedelta(minutes=60 * 0.51))  # `a` is gone; `b` reads again
    await b.ahead().read()
    assert await fire_ready(b)
    assert [e.data.threshold for e in rig.publisher.sla] == [50, 51]
