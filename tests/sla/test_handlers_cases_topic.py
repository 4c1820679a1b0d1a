"""Each case's latest state on `complaints.cases.v1` (ADR 0011): one per case after every change,
from the compare-and-set's state, again (never older) on a redelivery."""

from __future__ import annotations

import contextlib
from datetime import UTC, timedelta

from contracts import (
    CaseAction,
    CaseActionTaken,
    CaseState,
    ClockName,
    LifecycleAction,
    SlaEventKind,
    Topic,
)
from servicekit.bodies import deliver
from sla.handlers import LIFECYCLE
from tests._builders.sla import (
    CID,
    RECEIVED,
    Rig,
    classified,
    clock_entry,
    on_receipts,
    receipt,
)


def staff(kind: LifecycleAction, minutes: int, **fields: object) -> CaseActionTaken:
    """A staff action on CID, `minutes` after receipt."""
    at = RECEIVED + timedelta(minutes=minutes)
    data = CaseAction(
        complaint_id=CID,
        action=kind,
        action_id=f"crm-{kind.value}",
        actor="handler-7",
        occurred_at=at,
        **fields,
    )
    return CaseActionTaken.build(data=data, subject=CID, source="/crm", time=at, cause=CID)


async def act(rig: Rig, *events: CaseActionTaken) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


async def test_a_new_case_is_published_with_its_clocks_in_utc(rig: Rig) -> None:
    await rig.classified(classified())
    [state] = rig.publisher.states
    assert (state.subject, state.data.version, state.data.state) == (CID, 0, CaseState.CLASSIFIED)
    assert state.data.category == "billing/overcharge"
    clocks = {c.clock: c for c in state.data.clocks}
    assert clocks[ClockName.ACKNOWLEDGE].status == "running"
    assert all(c.due_at.utcoffset() == timedelta(0) for c in clocks.values())
    assert clocks[ClockName.ACKNOWLEDGE].due_at == (await rig.entry("acknowledge:1")).due_at
    await rig.classified(classified())  # redelivered: the stored case, once more, same id
    assert [s.id for s in rig.publisher.states] == [state.id] * 2


async def test_a_batch_of_actions_publishes_each_case_once_in_its_final_state(rig: Rig) -> None:
    await rig.classified(classified())
    await act(
        rig,
        staff(LifecycleAction.ASSIGNED, 5, assignee="handler-01", department="billing"),
        staff(LifecycleAction.CONTACTED, 6),
    )
    stored = await rig.record()
    [*_, last] = rig.publisher.states
    assert len(rig.publisher.states) == 2  # the new case, then one state for the whole batch
    assert (last.data.version, last.data.state) == (stored.version, stored.case.state)
    assert (last.data.assignee, last.data.department) == ("handler-01", "billing")
    dispatch = next(c for c in last.data.clocks if c.clock is ClockName.DISPATCH)
    assert (dispatch.status, dispatch.breached) == ("met", False)
    assert dispatch.stopped_at == (RECEIVED + timedelta(minutes=5)).astimezone(UTC)


async def test_a_redelivered_action_publishes_the_current_state_not_an_older_one(
    rig: Rig,
) -> None:
    await rig.classified(classified())
    assigned = staff(LifecycleAction.ASSIGNED, 5, assignee="handler-01", department="billing")
    await act(rig, assigned)
    await act(rig, staff(LifecycleAction.CONTACTED, 6))
    stored = await rig.record()
    await act(rig, assigned)  # redelivered after a later change
    latest = rig.publisher.latest()[CID].data
    assert (latest.state, latest.version) == (stored.case.state, 2)
    assert latest.state is not CaseState.DISPATCHED  # not the state right after `assigned`


async def test_an_acknowledging_receipt_publishes_the_case_and_a_redelivery_does_again(
    rig: Rig,
) -> None:
    await rig.classified(classified())
    await on_receipts(rig, receipt())
    acknowledged = rig.publisher.latest()[CID].data
    assert (acknowledged.acknowledged, acknowledged.state, acknowledged.version) == (
        True,
        CaseState.ACKNOWLEDGED,
        1,
    )
    await on_receipts(rig, receipt())  # the offset was not committed: the state goes again
    assert [s.data.version for s in rig.publisher.states] == [0, 1, 1]
    await on_receipts(rig, receipt(acknowledgement=False))  # not a change: nothing
    assert len(rig.publisher.states) == 3


async def test_a_firing_publishes_the_case_with_its_breach(rig: Rig) -> None:
    await rig.seed((CID, [clock_entry()]))
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(minutes=61))
    assert await scheduler.run_once() == 2  # the warning and the breach, in one change
    assert [e.data.event for e in rig.publisher.sla] == [
        SlaEventKind.WARNED,
        SlaEventKind.BREACHED,
    ]
    [state] = rig.publisher.states
    [clock] = state.data.clocks
    assert (clock.status, clock.breached, state.data.version) == ("running", True, 1)


async def test_a_failed_publish_loses_no_state(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.failures = 1
    with contextlib.suppress(TimeoutError):  # Kafka away: the batch fails, its offset stays
        await on_receipts(rig, receipt())
    assert [s.data.version for s in rig.publisher.states] == [0]
    await on_receipts(rig, receipt())  # redelivered
    assert rig.publisher.latest()[CID].data.acknowledged
