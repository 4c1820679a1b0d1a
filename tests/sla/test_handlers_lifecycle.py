"""Handler tests of staff actions on `complaints.lifecycle.v1` (DOMAIN.md §5–§6), fake clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts import (
    Audience,
    CaseActionRejected,
    CaseState,
    CaseStateChanged,
    ClockName,
    LifecycleAction,
    Satisfaction,
    Severity,
    SlaEventKind,
    Topic,
    Verdict,
)
from servicekit.bodies import deliver
from sla.clocks.sheet import as_deadline
from sla.domain import shift_for_pause
from sla.handlers import LIFECYCLE
from tests._builders.sla import (
    CALENDAR,
    CID,
    RECEIVED,
    Rig,
    classified,
    on_receipts,
    receipt,
)
from tests._builders.sla_actions import KEY, act, action, at, entry

A = LifecycleAction


@pytest.fixture
async def case(rig: Rig) -> Rig:
    """A P4 complaint classified and acknowledged (via the delivered SMS), events cleared."""
    await rig.classified(classified(complainant_key=KEY))
    await on_receipts(rig, receipt())
    rig.publisher.events.clear()
    return rig


def status(rig: Rig, clock: str, occurrence: str = "1") -> str:
    return entry(rig, f"{clock}:{occurrence}").status.value


async def test_delivered_acknowledgement_moves_the_case_to_acknowledged(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    await on_receipts(rig, receipt())
    assert rig.memory.state(CID) is CaseState.ACKNOWLEDGED
    assert rig.publisher.events == []  # no one consumes a receipt's acknowledgement


async def test_a_case_from_receipt_to_closure(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7", department="billing"))
    await act(rig, action(A.CONTACTED, at(1)))
    await act(rig, action(A.RESOLVED, at(20), result="refunded"))
    await act(rig, action(A.CALLBACK_DONE, at(30), satisfaction=Satisfaction.SATISFIED))
    await act(rig, action(A.CLOSED, at(31), verdict=Verdict.UPHELD, root_cause="billing rule"))

    moves = [(e.data.from_state, e.data.to_state) for e in rig.publisher.of(CaseStateChanged)]
    assert moves == [
        ("acknowledged", "dispatched"),
        ("dispatched", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "callback_done"),
        ("callback_done", "closed"),
    ]
    assert rig.memory.state(CID) is CaseState.CLOSED
    for clock in ("dispatch", "first_contact", "resolution", "callback"):
        assert status(rig, clock) == "met", clock
    met = {e.data.clock for e in rig.publisher.sla if e.data.event is SlaEventKind.MET}
    assert met == {
        ClockName.OUTER_LIMIT,  # answered within MIIT's 15 days
        ClockName.DISPATCH,
        ClockName.FIRST_CONTACT,
        ClockName.RESOLUTION,
        ClockName.CALLBACK,
    }
    # The time-based upgrades of an unresolved complaint are off once it is resolved.
    upgrades = [c for c in rig.memory.records[CID].clocks if c.clock is None]
    assert upgrades
    assert {c.status.value for c in upgrades} == {"cancelled"}
    changes = rig.memory.changes[CID]
    assert [c.resolved_at for c in changes if c.resolved_at] == [at(20)]
    assert [c.closed_at for c in changes if c.closed_at] == [at(31)]


async def test_illegal_transition_is_answered_with_a_reason_and_changes_nothing(case: Rig) -> None:
    rig = case
    await act(rig, action(A.CLOSED, at(1), verdict=Verdict.UPHELD))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "illegal_transition"
    assert refused.data.state == "acknowledged"
    assert "closed" in refused.data.detail
    assert rig.memory.state(CID) is CaseState.ACKNOWLEDGED
    assert rig.publisher.of(CaseStateChanged) == []


async def test_action_on_an_unknown_case_is_refused(rig: Rig) -> None:
    await act(rig, action(A.ASSIGNED, at(1), assignee="h"))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "unknown_case"


async def test_redelivered_action_is_applied_once(case: Rig) -> None:
    rig = case
    assign = action(A.ASSIGNED, at(0.5), assignee="handler-7")
    await act(rig, assign, assign)
    await act(rig, assign)
    # Stored once; each redelivery republishes the stored events under their ids.
    assert len(rig.memory.changes[CID]) == 2  # the receipt's acknowledgement, then this
    assert len({e.id for e in rig.publisher.of(CaseStateChanged)}) == 1
    assert rig.publisher.of(CaseActionRejected) == []


async def test_own_answers_on_the_topic_are_skipped_and_garbage_is_rejected(case: Rig) -> None:
    rig = case
    await act(rig, action(A.CLOSED, at(1), verdict=Verdict.UPHELD))
    [answer] = rig.publisher.of(CaseActionRejected)
    await act(rig, answer.model_dump_json().encode())
    messages = [rig.inbound(b'{"type": "nonsense"}', Topic.LIFECYCLE)]
    [rejection] = await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages)
    assert rejection.reason == "invalid_event"


async def test_pause_moves_running_clocks_and_resume_credits_the_wait(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))
    await act(rig, action(A.CONTACTED, at(1)))
    before = entry(rig, "resolution:1")
    paused, replied = at(2), at(26)  # Tuesday 11:30 → Wednesday 11:30 (one working day)
    await act(rig, action(A.AWAITING_CUSTOMER, paused, reason="waiting for the bill photo"))
    assert rig.memory.state(CID) is CaseState.AWAITING_CUSTOMER
    during = entry(rig, "resolution:1")
    assert during.due_at > before.due_at  # planned as if the pause used its whole cap
    assert during.pause_base == (before.due_at, before.thresholds)

    # Nothing of the paused clock fires while the case waits.
    scheduler = rig.scheduler("a")
    rig.clock.set(before.due_at + timedelta(minutes=1))
    await scheduler.run_once()
    fired_resolution = [e for e in rig.publisher.sla if e.data.clock is ClockName.RESOLUTION]
    assert all(e.data.event is not SlaEventKind.BREACHED for e in fired_resolution)

    await act(rig, action(A.CUSTOMER_REPLIED, replied))
    after = entry(rig, "resolution:1")
    expected = shift_for_pause(
        deadline=as_deadline(before), paused_at=paused, resumed_at=replied, calendar=CALENDAR
    )
    assert after.due_at == expected.due_at
    assert after.pause_base is None
    # One working day of waiting moves a working-day deadline by one working day.
    assert CALENDAR.working_time_between(before.due_at, after.due_at) == timedelta(hours=9)
    kinds = [e.data.event for e in rig.publisher.sla]
    assert SlaEventKind.PAUSED in kinds
    assert SlaEventKind.RESUMED in kinds
    assert rig.memory.changes[CID][-1].pause == (paused, replied)


async def test_redelivered_resume_does_not_shift_twice(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))
    await act(rig, action(A.CONTACTED, at(1)))
    await act(rig, action(A.AWAITING_CUSTOMER, at(2), reason="photo"))
    reply = action(A.CUSTOMER_REPLIED, at(26))
    await act(rig, reply)
    once = entry(rig, "resolution:1").due_at
    await act(rig, reply)
    assert entry(rig, "resolution:1").due_at == once


async def test_approved_extension_moves_the_due_time(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))
    before = entry(rig, "resolution:1").due_at
    extend: dict[str, Any] = {
        "clock": ClockName.RESOLUTION,
        "extend_by_hours": 9.0,
        "reason": "vendor",
        "approver": "m-1",
    }
    await act(rig, action(A.DEADLINE_EXTENDED, at(1), **extend))
    after = entry(rig, "resolution:1").due_at
    assert CALENDAR.working_time_between(before, after) == timedelta(hours=9)
    [extended] = [e for e in rig.publisher.sla if e.data.event is SlaEventKind.EXTENDED]
    assert extended.data.due_at == after


async def test_extension_without_approver_is_refused(case: Rig) -> None:
    rig = case
    extend: dict[str, Any] = {
        "clock": ClockName.RESOLUTION,
        "extend_by_hours": 9.0,
        "reason": "vendor",
    }
    await act(rig, action(A.DEADLINE_EXTENDED, at(1), **extend))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "extension_needs_approval"


async def test_closure_needs_a_callback_answer_or_three_failed_attempts(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))
    await act(rig, action(A.CONTACTED, at(1)))
    await act(rig, action(A.RESOLVED, at(5)))
    await act(rig, action(A.CLOSED, at(6), verdict=Verdict.UPHELD, action_id="close-1"))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "closure_needs_callback"
    for attempt in range(3):
        unreachable = action(
            A.CALLBACK_DONE, at(7 + attempt), satisfaction=Satisfaction.UNREACHABLE
        )
        await act(rig, unreachable)
    assert rig.memory.state(CID) is CaseState.RESOLVED
    await act(rig, action(A.CLOSED, at(11), verdict=Verdict.UPHELD, action_id="close-2"))
    assert rig.memory.state(CID) is CaseState.CLOSED


async def closed_as(rig: Rig, cid: str, verdict: Verdict, day: int) -> CaseStateChanged:
    """Take complaint `cid` from classification to closure with `verdict` on `day`."""
    await rig.classified(classified(cid=cid, complainant_key=KEY))
    start = RECEIVED + timedelta(days=day)
    steps = [
        action(A.ASSIGNED, start, cid=cid, assignee="h"),
        action(A.CONTACTED, start + timedelta(hours=1), cid=cid),
        action(A.RESOLVED, start + timedelta(hours=2), cid=cid),
        action(
            A.CALLBACK_DONE,
            start + timedelta(hours=3),
            cid=cid,
            satisfaction=Satisfaction.DISSATISFIED,
        ),
        action(A.CLOSED, start + timedelta(hours=4), cid=cid, verdict=verdict, evidence=["rec-1"]),
    ]
    await act(rig, *steps)
    return rig.publisher.of(CaseStateChanged)[-1]


async def test_third_baseless_verdict_within_a_year_flags_the_complainant(rig: Rig) -> None:
    first = await closed_as(rig, "CP20261124-000000000A", Verdict.BASELESS, 0)
    second = await closed_as(rig, "CP20261124-000000000B", Verdict.BASELESS, 30)
    assert not first.data.review_needed
    assert not second.data.review_needed
    third = await closed_as(rig, "CP20261124-000000000C", Verdict.BASELESS, 60)
    assert third.data.review_needed
    assert third.data.to_state is CaseState.CLOSED  # flagged for review, never blocked
    assert rig.memory.changes["CP20261124-000000000C"][-1].review_reason.startswith(
        "repeated_baseless"
    )


async def test_one_malicious_verdict_flags_the_complainant(rig: Rig) -> None:
    closed = await closed_as(rig, "CP20261124-000000000M", Verdict.MALICIOUS, 0)
    assert closed.data.review_needed


async def test_unresolved_complaint_is_upgraded_after_seven_days(case: Rig) -> None:
    rig = case
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(days=7, seconds=1))
    while await scheduler.run_once():
        pass
    [upgraded] = [e for e in rig.publisher.sla if e.data.event is SlaEventKind.UPGRADED]
    assert upgraded.data.severity is Severity.P2
    record = await rig.cases.load(CID)
    assert record is not None
    assert record.case.severity is Severity.P2


async def test_repeating_progress_clock_rearms_after_each_due_and_on_contact(rig: Rig) -> None:
    await rig.classified(classified(severity=Severity.P1))
    scheduler = rig.scheduler("a")
    first = entry(rig, "progress_update:1")
    rig.clock.set(first.due_at + timedelta(seconds=1))
    while await scheduler.run_once():
        pass
    second = entry(rig, "progress_update:2")
    assert second.due_at == first.due_at + timedelta(hours=24)
    # Contact with the customer is a progress update: it meets #2 and starts #3 from then.
    await act(rig, action(A.ASSIGNED, rig.clock.now(), assignee="h"))
    contact_at = rig.clock.now() + timedelta(hours=1)
    await act(rig, action(A.CONTACTED, contact_at))
    assert status(rig, "progress_update", "2") == "met"
    third = entry(rig, "progress_update:3")
    assert third.due_at == contact_at + timedelta(hours=24)
    # Resolution stops it for good: no fourth occurrence.
    await act(rig, action(A.RESOLVED, contact_at + timedelta(hours=2)))
    rig.clock.set(third.due_at + timedelta(hours=1))
    while await scheduler.run_once():
        pass
    assert "progress_update:4" not in {c.key for c in rig.memory.records[CID].clocks}


async def test_reopened_case_gets_a_new_resolution_clock(case: Rig) -> None:
    rig = case
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="h"))
    await act(rig, action(A.CONTACTED, at(1)))
    await act(rig, action(A.RESOLVED, at(2)))
    await act(rig, action(A.REOPENED, at(3), reason="not fixed"))
    assert rig.memory.state(CID) is CaseState.REOPENED
    assert status(rig, "resolution", "r1.1") == "running"
    assert status(rig, "callback") == "cancelled"


async def test_events_of_an_accepted_action_survive_a_failed_publish(case: Rig) -> None:
    rig = case
    assign = action(A.ASSIGNED, at(0.5), assignee="handler-7")
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await act(rig, assign)
    assert rig.memory.state(CID) is CaseState.DISPATCHED  # stored before publishing
    await act(rig, assign)
    [moved] = rig.publisher.of(CaseStateChanged)
    assert moved.data.to_state is CaseState.DISPATCHED
    assert [e.data.event for e in rig.publisher.sla] == [SlaEventKind.MET]
    assert len(rig.memory.changes[CID]) == 2  # stored once (after the receipt's)


async def test_census_counts_open_and_overdue_clocks_and_the_timely_rate(case: Rig) -> None:
    from sla.census import Census

    rig = case
    scheduler = rig.scheduler("a")
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))  # dispatch met on time
    rig.clock.set(at(30))  # first contact (4 wh) is long overdue by now
    while await scheduler.run_once():
        pass
    await Census(store=rig.cases, metrics=rig.metrics).once()

    def sample(name: str, **labels: str) -> float | None:
        return rig.registry.get_sample_value(name, labels)

    assert sample("complaints_deadlines_open", clock="resolution", severity="P4") == 1
    assert sample("complaints_deadlines_overdue", clock="first_contact", severity="P4") == 1
    assert sample("complaints_timely_handling_ratio", clock="dispatch") == 1.0
    assert sample("complaints_timely_handling_ratio", clock="first_contact") == 0.0
    assert sample("complaints_deadlines_open", clock="dispatch", severity="P4") is None


def test_census_waits_longer_after_a_costly_recount() -> None:
    from sla.census import Census

    census = Census(store=None, metrics=None, interval=60.0, share=0.05)  # type: ignore[arg-type]
    assert census.pause_after(0.5) == 60.0  # cheap: the interval
    assert census.pause_after(10.0) == 190.0  # 10 s of 200 s: 5 %


# --- upgrades (Vanke T12 / T13): only our time counts, and they re-plan the case -------------


async def test_a_case_waiting_ten_days_for_the_customer_is_not_upgraded_at_day_seven(
    rig: Rig,
) -> None:
    await rig.classified(classified())
    await act(
        rig,
        action(A.ASSIGNED, at(0.5), assignee="h-1"),
        action(A.CONTACTED, at(1)),
        action(A.AWAITING_CUSTOMER, at(24), reason="waiting for the customer's bill"),
    )
    scheduler = rig.scheduler("a")
    rig.clock.set(at(7 * 24 + 1))  # a week after receipt, six days of it waiting
    while await scheduler.run_once():
        pass
    assert (await rig.record()).case.severity is Severity.P4
    assert SlaEventKind.UPGRADED not in rig.publisher.kinds()
    await act(rig, action(A.CUSTOMER_REPLIED, at(11 * 24)))
    rig.clock.set(at(30 * 24))  # long after a week of our own time: upgraded now
    while await scheduler.run_once():
        pass
    assert (await rig.record()).case.severity is Severity.P2


async def test_an_upgrade_re_plans_the_remaining_clocks_on_the_new_severity(rig: Rig) -> None:
    await rig.classified(classified())
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="h-1"), action(A.CONTACTED, at(1)))
    scheduler = rig.scheduler("a")
    rig.clock.set(at(7 * 24 + 1))
    while await scheduler.run_once():
        pass
    record = await rig.record()
    assert record.case.severity is Severity.P2
    running = [e for e in record.clocks if e.running and e.clock is not None]
    assert running
    assert {e.severity for e in running} == {"P2"}
    # P2 runs progress updates every 48 h (P4 does not): they start at the upgrade.
    progress = [e for e in running if e.clock is ClockName.PROGRESS_UPDATE]
    assert [e.started_at for e in progress] == [at(7 * 24 + 1)]
    # The escalation chain is the new level's: a P2 breach of resolution tells the team lead.
    resolution = next(e for e in running if e.clock is ClockName.RESOLUTION)
    breach = next(t for t in resolution.thresholds if t.percent == 100)
    assert Audience.TEAM_LEAD in breach.audiences
