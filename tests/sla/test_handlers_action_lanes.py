"""Staff actions of different cases are applied side by side; one case's stay in order."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from contracts import (
    CaseAction,
    CaseActionTaken,
    CaseState,
    CaseStateChanged,
    LifecycleAction,
    Topic,
)
from servicekit.bodies import deliver as decoded_into
from sla.adapters.memory import InMemoryCaseStore
from sla.casework.lanes import in_lanes, lanes
from sla.handlers import LIFECYCLE
from sla.ports import CaseChange, CaseRecord
from tests._builders.sla import RECEIVED, Rig, cid_n, classified, on_receipts, receipt

A = LifecycleAction
CASES = [cid_n(n) for n in range(1, 7)]


class SlowCommits(InMemoryCaseStore):
    """A store whose compare-and-set takes a while, counting how many are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most = 0
        self.order: list[tuple[str, str]] = []  # (case, action id) as committed
        self.lose_first: set[str] = set()  # cases whose first attempt another writer beats
        self.fail_once: set[str] = set()  # cases whose first attempt finds the database away

    async def commit(self, record: CaseRecord, change: CaseChange) -> bool:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # the round trip
            cid = record.complaint_id
            if cid in self.fail_once:
                self.fail_once.discard(cid)
                raise AutoReconnect("connection closed")
            if cid in self.lose_first:
                self.lose_first.discard(cid)
                stored = self.records[cid]  # another replica's change lands first
                self.records[cid] = replace(stored, version=stored.version + 1)
            won = await super().commit(record, change)
            if won:
                self.order.append((cid, change.entry.id))
            return won
        finally:
            self.in_flight -= 1


def action(kind: LifecycleAction, cid: str, hours: float, **fields: object) -> CaseActionTaken:
    """A staff action on `cid`, `hours` after receipt."""
    at = RECEIVED + timedelta(hours=hours)
    data = CaseAction(
        complaint_id=cid,
        action=kind,
        action_id=f"{cid}-{kind.value}",
        actor="handler-7",
        occurred_at=at,
        **fields,  # type: ignore[arg-type]
    )
    return CaseActionTaken.build(data=data, subject=cid, source="/crm", time=at, cause="x")


def batch() -> list[CaseActionTaken]:
    """Each case assigned then contacted, the cases interleaved as partitions deliver them."""
    assigned = [
        action(A.ASSIGNED, c, 0.5, assignee="handler-7", department="billing") for c in CASES
    ]
    contacted = [action(A.CONTACTED, c, 1.0) for c in CASES]
    return [*assigned, *contacted]


async def deliver(rig: Rig, events: list[CaseActionTaken]) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
    assert await decoded_into(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


@pytest.fixture
async def slow() -> tuple[Rig, SlowCommits]:
    """Six acknowledged P4 cases on a store with slow commits."""
    store = SlowCommits()
    rig = Rig(cases=store)
    await rig.classified(*(classified(cid=c) for c in CASES))
    await on_receipts(rig, *(receipt(cid=c) for c in CASES))
    rig.publisher.events.clear()
    store.order.clear()
    store.most = 0
    return rig, store


def states(store: InMemoryCaseStore) -> set[CaseState]:
    return {store.state(c) for c in CASES}


async def test_different_cases_are_applied_at_once_up_to_the_bound(
    slow: tuple[Rig, SlowCommits],
) -> None:
    rig, store = slow
    rig.actions.concurrency = 3
    await deliver(rig, batch())
    assert store.most == 3  # side by side, never more than the bound
    assert states(store) == {CaseState.IN_PROGRESS}  # contact after assignment, on every case
    for cid in CASES:  # one case's actions in the order they came
        assert [a for c, a in store.order if c == cid] == [f"{cid}-assigned", f"{cid}-contacted"]
    moves = [e.data.action_id for e in rig.publisher.of(CaseStateChanged)]
    assert sorted(moves) == sorted(e.data.action_id for e in batch())


async def test_one_at_a_time_when_the_bound_is_one(slow: tuple[Rig, SlowCommits]) -> None:
    rig, store = slow
    rig.actions.concurrency = 1
    await deliver(rig, batch())
    assert store.most == 1
    assert states(store) == {CaseState.IN_PROGRESS}


async def test_a_compare_and_set_lost_in_one_lane_is_read_again_and_retried(
    slow: tuple[Rig, SlowCommits],
) -> None:
    rig, store = slow
    store.lose_first = {CASES[0], CASES[3]}
    writes = store.writes
    await deliver(rig, batch())
    assert states(store) == {CaseState.IN_PROGRESS}
    assert store.writes - writes == 2 * len(CASES) + 2  # two lost attempts, each retried once
    assert len(rig.publisher.of(CaseStateChanged)) == 2 * len(CASES)


async def test_a_failing_lane_lets_the_others_finish_then_raises_and_redelivery_is_once(
    slow: tuple[Rig, SlowCommits],
) -> None:
    rig, store = slow
    store.fail_once = {CASES[2]}
    events = batch()
    with pytest.raises(AutoReconnect):  # as itself: the delivery policy retries it
        await deliver(rig, events)
    assert store.state(CASES[2]) is CaseState.ACKNOWLEDGED
    assert {store.state(c) for c in CASES if c != CASES[2]} == {CaseState.IN_PROGRESS}
    await deliver(rig, events)  # the batch again
    assert states(store) == {CaseState.IN_PROGRESS}
    assert len(store.order) == 2 * len(CASES)  # each action stored once
    published = {e.id for e in rig.publisher.of(CaseStateChanged)}
    assert len(published) == 2 * len(CASES)  # republished under the same ids


def test_lanes_keep_arrival_order_within_and_first_arrival_across() -> None:
    items = [("b", 1), ("a", 1), ("b", 2), ("c", 1), ("a", 2)]
    assert lanes(items, key=lambda i: i[0]) == [
        [("b", 1), ("b", 2)],
        [("a", 1), ("a", 2)],
        [("c", 1)],
    ]


async def test_in_lanes_returns_lane_by_lane_and_raises_the_first_failure_as_it_was() -> None:
    seen: list[str] = []

    async def work(item: tuple[str, int]) -> list[str]:
        await asyncio.sleep(0.001 * (3 - item[1]))
        if item == ("x", 1):
            raise KeyError("x")
        seen.append(f"{item[0]}{item[1]}")
        return [f"{item[0]}{item[1]}"]

    items = [("a", 1), ("b", 1), ("a", 2)]
    assert await in_lanes(items, key=lambda i: i[0], work=work, limit=2) == ["a1", "a2", "b1"]
    seen.clear()
    with pytest.raises(KeyError):
        await in_lanes([("x", 1), ("y", 1), ("x", 2)], key=lambda i: i[0], work=work, limit=4)
    assert seen == ["y1"]  # the other lane finished; the failed lane stopped at its failure
