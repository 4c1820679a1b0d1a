"""No met, cancelled, breached or acknowledgement event is lost or doubled: the use-cases over
the in-memory fakes and over the real store, with lost compare-and-sets and processes "killed"
between storing a change and publishing its events."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from contracts import CaseStateChanged, ClockName, ClockStatus, LifecycleAction, SlaEventKind, Topic
from servicekit.bodies import deliver
from sla.handlers import LIFECYCLE
from sla.ports import CaseChange, CaseRecord
from tests._builders.sla import (
    RECEIVED,
    Rig,
    cid_n,
    classified,
    clock_entry,
    on_receipts,
    receipt,
)
from tests._builders.sla_actions import act, action
from tests.sla.contract import Adapters

A = LifecycleAction


def rig_over(adapters: Adapters) -> Rig:
    return Rig(cases=adapters.cases(), index=adapters.due_index(), liveness=adapters.liveness())


def once_each(rig: Rig) -> Counter[str]:
    """How often each distinct event was published (ids repeat only on redelivery)."""
    return Counter(e.id for e in rig.publisher.events)


async def test_a_scheduler_killed_after_its_write_loses_and_doubles_nothing(
    adapters: Adapters,
) -> None:
    rig = rig_over(adapters)
    await rig.seed(*((cid_n(n), [clock_entry(percents=(50, 100, 150))]) for n in range(1, 4)))
    rig.clock.set(RECEIVED + timedelta(minutes=61))  # 50 % and 100 % due for all three
    await rig.liveness.beat("killed", now=rig.clock.now())
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.scheduler("killed").run_once()
    survivor = rig.scheduler("survivor", adapters.due_index())
    assert await survivor.run_once() == 0  # its owner just beat: nothing fired, nothing sent
    assert rig.publisher.events == []
    rig.clock.advance(timedelta(seconds=0.7))  # no beat since: its claims are stale
    assert await survivor.run_once() == 0  # republished from the stored entries
    rig.clock.set(RECEIVED + timedelta(minutes=91))
    assert await survivor.run_once() == 3  # the 150 % escalations
    kinds = Counter(e.data.event for e in rig.publisher.sla)
    assert kinds == {SlaEventKind.WARNED: 3, SlaEventKind.BREACHED: 3, SlaEventKind.ESCALATED: 3}
    assert set(once_each(rig).values()) == {1}
    for n in range(1, 4):
        stored = await rig.record(cid_n(n))
        assert stored.unpublished == ()


async def test_two_replicas_fire_each_threshold_once(adapters: Adapters) -> None:
    rig = rig_over(adapters)
    await rig.seed(*((cid_n(n), [clock_entry()]) for n in range(1, 6)))
    first, second = rig.scheduler("a"), rig.scheduler("b", adapters.due_index())
    for minutes in (30, 31, 60, 61, 62):
        rig.clock.set(RECEIVED + timedelta(minutes=minutes))
        await first.run_once()
        await second.run_once()
    assert len(rig.publisher.events) == 10  # five clocks × (50 %, 100 %)
    assert set(once_each(rig).values()) == {1}


async def test_a_staff_action_stored_then_killed_is_republished_with_the_same_ids(
    adapters: Adapters,
) -> None:
    rig = rig_over(adapters)
    await rig.classified(classified())
    await on_receipts(rig, receipt())
    rig.publisher.events.clear()
    assign = action(A.ASSIGNED, RECEIVED + timedelta(minutes=30), assignee="h-1")
    withdraw = action(A.WITHDRAWN, RECEIVED + timedelta(hours=1), reason="sorted")
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await act(rig, assign, withdraw)  # both stored, then "killed" before the publish
    assert (await rig.record()).case.state == "withdrawn"
    await act(rig, assign, withdraw)  # the redelivery
    kinds = Counter(e.data.event for e in rig.publisher.sla)
    assert kinds[SlaEventKind.MET] == 1  # dispatch
    assert kinds[SlaEventKind.CANCELLED] == 3  # first contact (from dispatch), resolution, 15 days
    assert len(rig.publisher.of(CaseStateChanged)) == 2
    assert set(once_each(rig).values()) == {1}
    assert (await rig.record()).version == 3  # receipt, assign, withdraw: stored once each


async def test_an_action_whose_write_is_lost_is_applied_on_the_fresh_case(
    adapters: Adapters,
) -> None:
    rig = rig_over(adapters)
    await rig.classified(classified())
    rig.publisher.events.clear()
    real = rig.cases.commit
    raced = []

    async def racing(record: CaseRecord, change: CaseChange) -> bool:
        if not raced:  # the delivered SMS acknowledges the case between read and write
            raced.append(True)
            await on_receipts(rig, receipt())
        return await real(record, change)

    rig.cases.commit = racing  # type: ignore[method-assign]
    await act(rig, action(A.ASSIGNED, RECEIVED + timedelta(minutes=30), assignee="h-1"))
    stored = await rig.record()
    assert [h.action for h in stored.case.history] == [A.ACKNOWLEDGED, A.ASSIGNED]
    assert stored.case.state == "dispatched"
    met = [e.data.clock for e in rig.publisher.sla if e.data.event is SlaEventKind.MET]
    assert met == [ClockName.DISPATCH]  # the acknowledgement was met by the receipt, unsent
    ack = next(c for c in stored.clocks if c.clock is ClockName.ACKNOWLEDGE)
    assert ack.status is ClockStatus.MET
    assert set(once_each(rig).values()) == {1}


async def test_a_receipt_racing_a_staff_acknowledgement_acknowledges_once(
    adapters: Adapters,
) -> None:
    rig = rig_over(adapters)
    await rig.classified(classified())
    staff = action(A.ACKNOWLEDGED, RECEIVED + timedelta(minutes=5))
    messages = [rig.inbound(staff.model_dump_json().encode(), Topic.LIFECYCLE)]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []
    await on_receipts(rig, receipt())
    stored = await rig.record()
    assert [h.action for h in stored.case.history] == [A.ACKNOWLEDGED]
    ack = next(c for c in stored.clocks if c.clock is ClockName.ACKNOWLEDGE)
    assert replace(ack, lease=None).stopped_at == RECEIVED + timedelta(minutes=5)


async def test_a_batch_of_receipts_raced_by_staff_and_killed_acknowledges_each_case_once(
    adapters: Adapters,
) -> None:
    """Receipts of three cases are written in one batched compare-and-set; staff acknowledge
    one case between the read and the write, and the process dies before its snapshots are
    published. The redelivered batch changes nothing more."""
    rig = rig_over(adapters)
    cids = [cid_n(n) for n in range(1, 4)]
    await rig.classified(*(classified(cid=cid) for cid in cids))
    real = rig.cases.commit_many
    raced = []

    async def racing(changes: list[tuple[CaseRecord, CaseChange]]) -> set[str]:
        if not raced:
            raced.append(True)
            staff = action(A.ACKNOWLEDGED, RECEIVED + timedelta(minutes=5), cid=cids[1])
            await act(rig, staff)
            rig.publisher.failures = 1  # the batch is stored, then killed before publishing
        return await real(changes)

    rig.cases.commit_many = racing  # type: ignore[method-assign]
    receipts = [receipt(cid=cid, at=RECEIVED + timedelta(minutes=9)) for cid in cids]
    rig.publisher.states.clear()
    with pytest.raises(TimeoutError):
        await on_receipts(rig, *receipts)
    assert set(rig.publisher.latest()) == {cids[1]}  # only the staff action's went out
    stored = {cid: await rig.record(cid) for cid in cids}
    await on_receipts(rig, *receipts)  # the redelivery
    for cid in cids:
        record = await rig.record(cid)
        assert record == stored[cid]  # nothing written twice
        [row] = record.case.history
        assert row.action is A.ACKNOWLEDGED
        assert (row.actor == "notifier") is (cid != cids[1])  # staff were first on one case
    assert set(rig.publisher.latest()) == set(cids)  # each case's new state is out now
    assert set(once_each(rig).values()) == {1}  # the staff action's events, once


async def test_clocks_stored_then_killed_are_announced_by_the_redelivery(
    adapters: Adapters,
) -> None:
    rig = rig_over(adapters)
    batch = [classified(cid=cid_n(n)) for n in range(1, 4)]
    rig.publisher.failures = 1  # the insert is stored, the `set` events never leave
    with pytest.raises(TimeoutError):
        await rig.classified(*batch)
    stored = [await rig.record(cid_n(n)) for n in range(1, 4)]
    rig.clock.advance(timedelta(minutes=1))
    await rig.classified(*batch)  # the redelivery
    kinds = Counter(e.data.event for e in rig.publisher.sla)
    assert kinds == {SlaEventKind.SET: 3}  # what acknowledges the customer: each once
    assert {e.id for e in rig.publisher.events} == {r.log[0].events[0].id for r in stored}
    assert [await rig.record(cid_n(n)) for n in range(1, 4)] == stored  # stored once
