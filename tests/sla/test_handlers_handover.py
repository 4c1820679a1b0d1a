"""Handler tests of 首问负责 (001, 000): a hand-over left unanswered escalates at the pack's
limit, and the case keeps its owner until the receiving department accepts it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts import (
    Audience,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseStateChanged,
    ClockName,
    LifecycleAction,
    SlaEventKind,
    Topic,
)
from servicekit.bodies import deliver
from sla.handlers import LIFECYCLE
from tests._builders.sla import CALENDAR, CID, RECEIVED, Rig, classified

A = LifecycleAction


def action(kind: LifecycleAction, at: datetime, actor: str, **fields: Any) -> CaseActionTaken:
    """A staff action on the case at `at`."""
    data = CaseAction(
        complaint_id=CID,
        action=kind,
        action_id=f"{kind.value}-{at.isoformat()}",
        actor=actor,
        occurred_at=at,
        **fields,
    )
    return CaseActionTaken.build(data=data, subject=CID, source="/crm", time=at, cause="x")


async def act(rig: Rig, *events: CaseActionTaken) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


def at(hours: float) -> datetime:
    return RECEIVED + timedelta(hours=hours)


async def asked(rig: Rig) -> None:
    """A P4 case the 10000 agent dispatched, then asked the network department to take over."""
    await rig.classified(classified())
    await act(
        rig,
        action(A.ASSIGNED, at(0.5), "agent-10000", assignee="h-1", department="billing"),
        action(
            A.HANDOVER_REQUESTED, at(1), "agent-10000", department="network", reason="line fault"
        ),
    )


async def test_an_unanswered_hand_over_escalates_at_the_limit_and_the_owner_keeps_the_case(
    rig: Rig,
) -> None:
    await asked(rig)
    handover = await rig.entry("handover:1")
    # Asked Tuesday 10:30 local: two working hours later, 12:30.
    assert CALENDAR.local(handover.due_at) == CALENDAR.local(at(3))
    breach = next(t for t in handover.thresholds if t.percent == 100)
    assert Audience.TEAM_LEAD in breach.audiences
    scheduler = rig.scheduler("a")
    rig.clock.set(at(3) + timedelta(seconds=1))
    while await scheduler.run_once():
        pass
    fired = [e.data for e in rig.publisher.sla if e.data.clock is ClockName.HANDOVER]
    assert [e.event for e in fired] == [
        SlaEventKind.WARNED,
        SlaEventKind.WARNED,
        SlaEventKind.BREACHED,
    ]
    record = await rig.record()
    assert record.case.owner == "agent-10000"
    assert record.case.pending_handover is not None
    assert (await rig.entry("handover:1")).running  # it keeps escalating until answered


async def test_the_receiving_department_accepts_and_owns_the_case(rig: Rig) -> None:
    await asked(rig)
    await act(rig, action(A.HANDOVER_ACCEPTED, at(1.5), "net-7", department="network"))
    record = await rig.record()
    assert (record.case.owner, record.case.owner_department) == ("net-7", "network")
    assert (await rig.entry("handover:1")).status.value == "met"
    moved = rig.publisher.of(CaseStateChanged)[-1].data
    assert (moved.action, moved.owner, moved.owner_department) == (
        A.HANDOVER_ACCEPTED,
        "net-7",
        "network",
    )


async def test_a_decline_keeps_the_owner_and_a_second_request_runs_its_own_clock(rig: Rig) -> None:
    await asked(rig)
    await act(
        rig,
        action(
            A.HANDOVER_DECLINED, at(1.5), "net-7", department="network", reason="not a line fault"
        ),
        action(A.HANDOVER_REQUESTED, at(2), "agent-10000", department="billing", reason="tariff"),
    )
    record = await rig.record()
    assert record.case.owner == "agent-10000"
    assert [h.status for h in record.case.handovers] == ["declined", "pending"]
    assert (await rig.entry("handover:1")).status.value == "met"
    assert (await rig.entry("handover:r1.1")).running
    declined = rig.publisher.of(CaseStateChanged)[-2].data
    assert declined.reason == "not a line fault"


async def test_an_answer_from_another_department_is_refused(rig: Rig) -> None:
    await asked(rig)
    await act(rig, action(A.HANDOVER_ACCEPTED, at(1.5), "bill-3", department="billing"))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "handover_wrong_department"
    assert (await rig.record()).case.owner == "agent-10000"
