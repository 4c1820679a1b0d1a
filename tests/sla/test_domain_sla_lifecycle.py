"""The lifecycle state machine: legal moves, refusals with reasons, pauses with a cap, closure."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contracts import (
    ActorRole,
    CaseAction,
    CaseState,
    ClockName,
    Kind,
    LifecycleAction,
    Regrade,
    Satisfaction,
    Severity,
    Verdict,
)
from sla.domain import (
    Case,
    Refusal,
    Transition,
    apply_action,
    complainant_review_needed,
    open_case,
    pause_cap_ends_at,
)
from tests._builders.sla import CALENDAR as CAL
from tests._builders.sla import POLICY

SH = ZoneInfo("Asia/Shanghai")
S, A = CaseState, LifecycleAction
_ids = itertools.count()
T0 = datetime(2026, 3, 9, 10, tzinfo=SH)  # a Monday

# Extra fields each action needs to be acceptable.
NEEDS: dict[LifecycleAction, dict[str, Any]] = {
    A.ASSIGNED: {"assignee": "h-017", "department": "billing"},
    A.AWAITING_CUSTOMER: {"reason": "waiting for the bill copy"},
    A.CALLBACK_DONE: {"satisfaction": Satisfaction.SATISFIED},
    A.CLOSED: {"verdict": Verdict.UPHELD},
    A.REGRADED: {
        "regrade": Regrade(
            kind=Kind.COMPLAINT, category="billing/overcharge", severity=Severity.P2
        ),
        "reason": "the customer already went to 12315",
        "actor_role": ActorRole.LEAD,
    },
    A.DEADLINE_EXTENDED: {"clock": ClockName.RESOLUTION, "extend_by_hours": 9, "approver": "m-1"},
    A.COMPLEXITY_MARKED: {"complex": True, "actor_role": ActorRole.LEAD},
    A.CALENDAR_REPLANNED: {"calendar_version": CAL.version},
}

# DOMAIN.md §6, written out: (state, action) → state.
LEGAL_MOVES = [
    (S.CLASSIFIED, A.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (S.CLASSIFIED, A.ASSIGNED, S.DISPATCHED),
    (S.ACKNOWLEDGED, A.ASSIGNED, S.DISPATCHED),
    (S.DISPATCHED, A.ASSIGNED, S.DISPATCHED),
    (S.DISPATCHED, A.CONTACTED, S.IN_PROGRESS),
    (S.DISPATCHED, A.CONTACT_FAILED, S.DISPATCHED),
    (S.IN_PROGRESS, A.CONTACTED, S.IN_PROGRESS),
    (S.IN_PROGRESS, A.AWAITING_CUSTOMER, S.AWAITING_CUSTOMER),
    (S.AWAITING_CUSTOMER, A.CUSTOMER_REPLIED, S.IN_PROGRESS),
    (S.IN_PROGRESS, A.RESOLVED, S.RESOLVED),
    (S.AWAITING_CUSTOMER, A.RESOLVED, S.RESOLVED),
    (S.RESOLVED, A.CALLBACK_DONE, S.CALLBACK_DONE),
    (S.RESOLVED, A.CONTACT_FAILED, S.RESOLVED),
    (S.CALLBACK_DONE, A.CLOSED, S.CLOSED),
    (S.CALLBACK_DONE, A.REOPENED, S.REOPENED),
    (S.RESOLVED, A.REOPENED, S.REOPENED),
    (S.CLOSED, A.REOPENED, S.REOPENED),
    (S.WITHDRAWN, A.REOPENED, S.REOPENED),  # a lead undoes a withdrawal (issue 20)
    (S.REOPENED, A.ASSIGNED, S.DISPATCHED),
    (S.IN_PROGRESS, A.WITHDRAWN, S.WITHDRAWN),
    (S.CLASSIFIED, A.WITHDRAWN, S.WITHDRAWN),
    (S.IN_PROGRESS, A.DEADLINE_EXTENDED, S.IN_PROGRESS),
]

ILLEGAL_MOVES = [
    (S.CLASSIFIED, A.CONTACTED),
    (S.CLASSIFIED, A.RESOLVED),
    (S.DISPATCHED, A.RESOLVED),
    (S.IN_PROGRESS, A.CUSTOMER_REPLIED),
    (S.IN_PROGRESS, A.CALLBACK_DONE),
    (S.IN_PROGRESS, A.CLOSED),
    (S.IN_PROGRESS, A.REOPENED),
    (S.ACKNOWLEDGED, A.AWAITING_CUSTOMER),
    (S.CLOSED, A.WITHDRAWN),
    (S.CLOSED, A.ASSIGNED),
    (S.WITHDRAWN, A.CONTACTED),
    (S.REJECTED, A.ACKNOWLEDGED),
    (S.DUPLICATE, A.ASSIGNED),
    (S.ROUTED, A.RESOLVED),
    (S.ENQUIRY, A.CLOSED),
]


def act(action: LifecycleAction, when: datetime = T0, **fields: Any) -> CaseAction:
    extra = {**NEEDS.get(action, {}), **fields}
    return CaseAction(
        complaint_id="CP20260309-7K3M9Q2XAB",
        action=action,
        action_id=f"a{next(_ids)}",
        actor="staff-1",
        occurred_at=when,
        **extra,
    )


def case_in(state: CaseState, **fields: Any) -> Case:
    paused = {"paused_at": T0} if state is S.AWAITING_CUSTOMER else {}
    return Case(state=state, severity=Severity.P3, **{**paused, **fields})


def ok(result: Transition | Refusal) -> Transition:
    assert isinstance(result, Transition), result
    return result


def refused(result: Transition | Refusal, reason: str) -> Refusal:
    assert isinstance(result, Refusal), result
    assert result.reason == reason, result
    assert result.detail
    return result


@pytest.mark.parametrize(("state", "action", "target"), LEGAL_MOVES)
def test_legal_transitions(state: CaseState, action: LifecycleAction, target: CaseState) -> None:
    result = ok(apply_action(case_in(state), act(action), policy=POLICY, calendar=CAL))
    assert (result.from_state, result.to_state, result.case.state) == (state, target, target)
    assert result.case.history[-1].action is action


@pytest.mark.parametrize(("state", "action"), ILLEGAL_MOVES)
def test_illegal_transitions_are_refused(state: CaseState, action: LifecycleAction) -> None:
    case = case_in(state)
    result = refused(
        apply_action(case, act(action), policy=POLICY, calendar=CAL), "illegal_transition"
    )
    assert result.state is state
    assert state.value in result.detail


def run(case: Case, *actions: CaseAction) -> Case:
    for action in actions:
        case = ok(apply_action(case, action, policy=POLICY, calendar=CAL)).case
    return case


def test_the_main_path_and_its_clock_effects() -> None:
    case = open_case(severity=Severity.P2)
    ack = ok(apply_action(case, act(A.ACKNOWLEDGED), policy=POLICY))
    assert ack.stops == (ClockName.ACKNOWLEDGE,)
    assigned = ok(apply_action(ack.case, act(A.ASSIGNED), policy=POLICY))
    assert assigned.stops == (ClockName.DISPATCH,)
    contacted = ok(apply_action(assigned.case, act(A.CONTACTED), policy=POLICY))
    assert contacted.stops == (ClockName.FIRST_CONTACT,)
    again = ok(apply_action(contacted.case, act(A.CONTACTED), policy=POLICY))
    assert again.stops == ()
    resolved = ok(apply_action(again.case, act(A.RESOLVED, result="refunded"), policy=POLICY))
    assert ClockName.RESOLUTION in resolved.stops
    assert ClockName.REGULATOR_REPLY in resolved.stops
    assert ClockName.PROGRESS_UPDATE in resolved.stops
    assert resolved.starts == (ClockName.CALLBACK,)
    called = ok(apply_action(resolved.case, act(A.CALLBACK_DONE), policy=POLICY))
    assert called.stops == (ClockName.CALLBACK,)
    closed = ok(
        apply_action(
            called.case,
            act(A.CLOSED, verdict=Verdict.BASELESS, evidence=["meter-log-2026-03"]),
            policy=POLICY,
        )
    )
    assert closed.case.state is S.CLOSED
    assert closed.case.verdict is Verdict.BASELESS
    assert len(closed.case.history) == 7


def test_acknowledging_late_is_recorded_once() -> None:
    case = run(open_case(severity=Severity.P3), act(A.ASSIGNED))
    late = ok(apply_action(case, act(A.ACKNOWLEDGED), policy=POLICY))
    assert late.to_state is S.DISPATCHED
    assert late.stops == (ClockName.ACKNOWLEDGE,)
    refused(apply_action(late.case, act(A.ACKNOWLEDGED), policy=POLICY), "already_acknowledged")


def test_missing_fields_are_refused_with_reasons() -> None:
    dispatched = case_in(S.DISPATCHED)
    in_progress = case_in(S.IN_PROGRESS)
    resolved = case_in(S.RESOLVED)
    cases = [
        (
            case_in(S.CLASSIFIED),
            act(A.ASSIGNED, assignee=None, department=None),
            "assignment_needs_assignee",
        ),
        (in_progress, act(A.AWAITING_CUSTOMER, reason=None), "pause_needs_reason"),
        (resolved, act(A.CALLBACK_DONE, satisfaction=None), "callback_needs_answer"),
        (case_in(S.CALLBACK_DONE), act(A.CLOSED, verdict=None), "closure_needs_verdict"),
        (dispatched, act(A.DEADLINE_EXTENDED, approver=None), "extension_needs_approval"),
        (dispatched, act(A.DEADLINE_EXTENDED, clock=None), "extension_incomplete"),
    ]
    for case, action, reason in cases:
        result = refused(apply_action(case, action, policy=POLICY, calendar=CAL), reason)
        assert result.state is case.state


def test_the_same_action_id_twice_is_one_action() -> None:
    action = act(A.ASSIGNED)
    first = ok(apply_action(case_in(S.CLASSIFIED), action, policy=POLICY))
    refused(apply_action(first.case, action, policy=POLICY), "duplicate_action")


def test_closure_needs_a_callback_answer_or_three_failed_attempts() -> None:
    case = case_in(S.RESOLVED)
    for attempt in range(3):
        refused(apply_action(case, act(A.CLOSED), policy=POLICY), "closure_needs_callback")
        failure = (
            act(A.CONTACT_FAILED)
            if attempt % 2
            else act(A.CALLBACK_DONE, satisfaction=Satisfaction.UNREACHABLE)
        )
        step = ok(apply_action(case, failure, policy=POLICY))
        assert step.to_state is S.RESOLVED  # an unreachable customer gave no answer
        case = step.case
    assert case.callback_failures == 3
    closed = ok(apply_action(case, act(A.CLOSED), policy=POLICY))
    assert closed.case.state is S.CLOSED


def test_failed_contacts_before_resolution_do_not_count_for_closure() -> None:
    case = case_in(S.IN_PROGRESS)
    case = run(
        case, act(A.CONTACT_FAILED), act(A.CONTACT_FAILED), act(A.CONTACT_FAILED), act(A.RESOLVED)
    )
    assert case.contact_failures == 3
    assert case.callback_failures == 0
    refused(apply_action(case, act(A.CLOSED), policy=POLICY), "closure_needs_callback")


def test_reopening_resets_the_callback_and_restarts_resolution() -> None:
    case = run(case_in(S.RESOLVED), act(A.CALLBACK_DONE, satisfaction=Satisfaction.DISSATISFIED))
    assert case.callback_answer is Satisfaction.DISSATISFIED
    reopened = ok(apply_action(case, act(A.REOPENED, reason="not fixed"), policy=POLICY))
    assert reopened.case.callback_answer is None
    assert reopened.case.reopen_count == 1
    assert ClockName.RESOLUTION in reopened.starts
    refused(apply_action(reopened.case, act(A.CLOSED), policy=POLICY), "illegal_transition")


def test_pause_keeps_time_used_and_credits_the_wait() -> None:
    case = run(case_in(S.IN_PROGRESS), act(A.AWAITING_CUSTOMER, T0))
    assert case.paused_at == T0
    assert case.pause_reason
    back = ok(
        apply_action(
            case, act(A.CUSTOMER_REPLIED, T0 + timedelta(hours=26)), policy=POLICY, calendar=CAL
        )
    )
    assert back.pause is not None
    assert not back.pause.capped
    assert (back.pause.paused_at, back.pause.credited_until) == (T0, T0 + timedelta(hours=26))
    assert back.case.paused_total == timedelta(hours=8 + 3)  # Mon 10-18, Tue 9-12 working time
    assert back.case.paused_at is None


def test_pause_is_capped_at_five_working_days_in_total() -> None:
    case = run(case_in(S.IN_PROGRESS), act(A.AWAITING_CUSTOMER, T0))
    cap_end = pause_cap_ends_at(case=case, policy=POLICY, calendar=CAL)
    assert cap_end == CAL.add_working_hours(T0, 45)  # 5 × 9 working hours
    long_wait = ok(
        apply_action(
            case, act(A.CUSTOMER_REPLIED, T0 + timedelta(days=20)), policy=POLICY, calendar=CAL
        )
    )
    assert long_wait.pause is not None
    assert long_wait.pause.capped
    assert long_wait.pause.credited_until == cap_end
    assert long_wait.case.paused_total == timedelta(hours=45)
    # A second pause has nothing left to credit.
    again = run(long_wait.case, act(A.AWAITING_CUSTOMER, T0 + timedelta(days=21)))
    assert pause_cap_ends_at(case=again, policy=POLICY, calendar=CAL) == T0 + timedelta(days=21)
    second = ok(
        apply_action(
            again, act(A.CUSTOMER_REPLIED, T0 + timedelta(days=22)), policy=POLICY, calendar=CAL
        )
    )
    assert second.pause is not None
    assert second.pause.credited_until == second.pause.paused_at
    assert second.case.paused_total == timedelta(hours=45)


def test_policy_calendar_is_used_when_none_is_passed() -> None:
    case = run(case_in(S.IN_PROGRESS), act(A.AWAITING_CUSTOMER, T0))
    back = ok(apply_action(case, act(A.CUSTOMER_REPLIED, T0 + timedelta(hours=2)), policy=POLICY))
    assert back.case.paused_total == timedelta(hours=2)


def test_never_raises_on_any_state_and_action() -> None:
    for state, action in itertools.product(CaseState, LifecycleAction):
        result = apply_action(case_in(state), act(action), policy=POLICY, calendar=CAL)
        assert isinstance(result, Transition | Refusal)
        if isinstance(result, Refusal):
            assert result.state is state


def test_baseless_or_malicious_needs_evidence_and_the_unverifiable_closes_upheld() -> None:
    # 002 Art. 17: what cannot be verified is judged in the customer's favour.
    called = open_case(severity=Severity.P4, state=S.CALLBACK_DONE)
    for verdict in (Verdict.BASELESS, Verdict.MALICIOUS):
        refused = apply_action(called, act(A.CLOSED, verdict=verdict), policy=POLICY)
        assert isinstance(refused, Refusal)
        assert refused.reason == "verdict_needs_evidence"
        assert "close it upheld" in refused.detail
    upheld = ok(apply_action(called, act(A.CLOSED, verdict=Verdict.UPHELD), policy=POLICY))
    assert upheld.case.verdict is Verdict.UPHELD


def test_not_accepted_needs_a_reason_stops_every_clock_and_only_before_the_result() -> None:
    # 003: a complaint without the evidence it needs is not accepted, with the reason told.
    dispatched = open_case(severity=Severity.P3, state=S.DISPATCHED)
    silent = apply_action(dispatched, act(A.CLOSED, verdict=Verdict.NOT_ACCEPTED), policy=POLICY)
    assert isinstance(silent, Refusal)
    assert silent.reason == "not_accepted_needs_reason"
    closed = ok(
        apply_action(
            dispatched,
            act(A.CLOSED, verdict=Verdict.NOT_ACCEPTED, reason="no bill or call record supplied"),
            policy=POLICY,
        )
    )
    assert (closed.case.state, closed.case.verdict) == (S.CLOSED, Verdict.NOT_ACCEPTED)
    assert set(closed.stops) == set(ClockName)
    resolved = open_case(severity=Severity.P3, state=S.RESOLVED)
    late = apply_action(
        resolved, act(A.CLOSED, verdict=Verdict.NOT_ACCEPTED, reason="x"), policy=POLICY
    )
    assert isinstance(late, Refusal)
    assert late.reason == "illegal_transition"
    # An upheld closure still waits for the result and the callback.
    early = apply_action(dispatched, act(A.CLOSED, verdict=Verdict.UPHELD), policy=POLICY)
    assert isinstance(early, Refusal)
    assert early.reason == "illegal_transition"


def test_not_accepted_never_counts_against_the_complainant() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    verdicts = [(day + timedelta(days=i), Verdict.NOT_ACCEPTED) for i in range(5)]
    assert complainant_review_needed(verdicts=verdicts, now=day + timedelta(days=10)) is None
