"""首问负责 (001, 000): the first to act owns the case until a hand-over is accepted."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts import CaseAction, CaseState, Channel, ClockName, LifecycleAction, Severity
from sla.domain import (
    Case,
    Refusal,
    Transition,
    apply_action,
    deadlines_starting,
    open_case,
)
from tests._builders.sla import CALENDAR as CAL
from tests._builders.sla import POLICY

SH = ZoneInfo("Asia/Shanghai")
A = LifecycleAction
T0 = datetime(2026, 11, 20, 10, tzinfo=SH)  # a Friday
_ids = itertools.count()


def act(action: LifecycleAction, actor: str, when: datetime = T0, **fields: Any) -> CaseAction:
    return CaseAction(
        complaint_id="CP20261120-7K3M9Q2XAB",
        action=action,
        action_id=f"h{next(_ids)}",
        actor=actor,
        occurred_at=when,
        **fields,
    )


def step(case: Case, action: CaseAction) -> Transition:
    result = apply_action(case, action, policy=POLICY, calendar=CAL)
    assert isinstance(result, Transition), result
    return result


def refused(case: Case, action: CaseAction, reason: str) -> None:
    result = apply_action(case, action, policy=POLICY, calendar=CAL)
    assert isinstance(result, Refusal), result
    assert (result.reason, result.state) == (reason, case.state)


def asked(case: Case, department: str = "network") -> Case:
    reason = "line fault: the exchange side must test it"
    return step(
        case, act(A.HANDOVER_REQUESTED, "agent-10000", department=department, reason=reason)
    ).case


def received() -> Case:
    """A P3 case the 10000 agent acknowledged first: the agent owns it."""
    return step(open_case(severity=Severity.P3), act(A.ACKNOWLEDGED, "agent-10000")).case


def test_the_first_to_act_owns_the_case_and_later_actors_do_not_take_it() -> None:
    case = received()
    assert (case.owner, case.owner_department) == ("agent-10000", None)
    later = step(case, act(A.ASSIGNED, "lead-2", assignee="h-017", department="billing")).case
    assert later.owner == "agent-10000"


def test_a_request_starts_the_handover_clock_and_keeps_the_owner() -> None:
    move = step(
        received(),
        act(A.HANDOVER_REQUESTED, "agent-10000", department="network", reason="line fault"),
    )
    assert move.starts == (ClockName.HANDOVER,)
    assert move.to_state is CaseState.ACKNOWLEDGED  # recorded, no move
    assert move.case.owner == "agent-10000"
    (pending,) = move.case.handovers
    assert (pending.department, pending.status, pending.requested_by) == (
        "network",
        "pending",
        "agent-10000",
    )


def test_accepted_by_the_receiving_department_moves_the_ownership_and_stops_the_clock() -> None:
    case = asked(received())
    move = step(case, act(A.HANDOVER_ACCEPTED, "net-7", department="network"))
    assert move.stops == (ClockName.HANDOVER,)
    assert (move.case.owner, move.case.owner_department) == ("net-7", "network")
    (done,) = move.case.handovers
    assert (done.status, done.decided_by) == ("accepted", "net-7")
    assert move.case.pending_handover is None


def test_declined_keeps_the_owner_and_needs_a_reason() -> None:
    case = asked(received())
    refused(case, act(A.HANDOVER_DECLINED, "net-7", department="network"), "decline_needs_reason")
    move = step(
        case, act(A.HANDOVER_DECLINED, "net-7", department="network", reason="not a line fault")
    )
    assert move.stops == (ClockName.HANDOVER,)
    assert move.case.owner == "agent-10000"
    assert move.case.handovers[0].status == "declined"
    # The owner may then ask another department: a new request, its own clock.
    again = step(
        move.case,
        act(A.HANDOVER_REQUESTED, "agent-10000", department="billing", reason="a tariff matter"),
    )
    assert [h.status for h in again.case.handovers] == ["declined", "pending"]


def test_only_the_asked_department_answers_and_one_request_waits_at_a_time() -> None:
    case = asked(received())
    refused(
        case,
        act(A.HANDOVER_ACCEPTED, "billing-3", department="billing"),
        "handover_wrong_department",
    )
    refused(case, act(A.HANDOVER_ACCEPTED, "net-7"), "handover_wrong_department")
    refused(
        case,
        act(A.HANDOVER_REQUESTED, "agent-10000", department="billing", reason="x"),
        "handover_pending",
    )
    refused(
        received(), act(A.HANDOVER_ACCEPTED, "net-7", department="network"), "no_pending_handover"
    )


def test_a_request_names_the_department_and_the_reason() -> None:
    refused(received(), act(A.HANDOVER_REQUESTED, "agent-10000", reason="x"), "handover_incomplete")
    refused(
        received(),
        act(A.HANDOVER_REQUESTED, "agent-10000", department="network"),
        "handover_incomplete",
    )


def test_handing_over_to_the_owning_department_is_refused() -> None:
    owned = step(asked(received()), act(A.HANDOVER_ACCEPTED, "net-7", department="network")).case
    refused(
        owned,
        act(A.HANDOVER_REQUESTED, "net-7", department="network", reason="x"),
        "handover_to_owner",
    )


def test_the_telecom_pack_gives_two_working_hours_to_answer_a_p3_hand_over() -> None:
    # Friday 17:00: one working hour left that day, the second on Monday 09:00-10:00.
    asked_at = datetime(2026, 11, 20, 17, tzinfo=SH)
    (deadline,) = deadlines_starting(
        at="handover",
        started_at=asked_at,
        severity=Severity.P3,
        channel=Channel.HOTLINE,
        flags=(),
        policy=POLICY,
        calendar=CAL,
    )
    assert deadline.clock is ClockName.HANDOVER
    assert deadline.due_at == datetime(2026, 11, 23, 10, tzinfo=SH)
    assert not POLICY.pausable(ClockName.HANDOVER)
    # Escalated like the other clocks: the team lead at the breach, the manager at 150 %.
    audiences = POLICY.audiences(clock=ClockName.HANDOVER, severity=Severity.P3, flags=())
    assert "team_lead" in audiences[100]
    assert "manager" in audiences[150]
    assert deadline.due_at - asked_at > timedelta(hours=2)  # working time, not natural
