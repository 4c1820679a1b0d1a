"""The case lifecycle of DOMAIN.md §6 as a pure state machine over staff-side actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from contracts import CaseAction, CaseState, ClockName, LifecycleAction, Satisfaction, Verdict
from sla.domain.calendar import BusinessCalendar
from sla.domain.case import Case, HistoryEntry, PauseCredit, Refusal, Transition
from sla.domain.pausing import end_pause
from sla.domain.policy import SlaPolicy, Start
from sla.domain.transitions import (
    LEGAL,
    NEEDS_EVIDENCE,
    NOT_ACCEPTABLE,
    UNTIL_RESOLVED,
)

S = CaseState
A = LifecycleAction

MAX_EXTENSION_HOURS = 2160.0
"""Longest approved extension (90 days; the case API allows no more either)."""


@dataclass(frozen=True)
class _Effects:
    stops: tuple[ClockName, ...] = ()
    starts: tuple[ClockName, ...] = ()
    pauses: bool = False
    pause: PauseCredit | None = None
    extension: tuple[ClockName, float] | None = None
    to_state: CaseState | None = None  # overrides the table (an unreachable callback stays put)


@dataclass(frozen=True)
class _Step:
    case: Case
    action: CaseAction
    policy: SlaPolicy
    calendar: BusinessCalendar | None


_Outcome = tuple[Case, _Effects] | Refusal
_Rule = Callable[[_Step], _Outcome]


def _started_at(step: _Step, moment: Start) -> tuple[ClockName, ...]:
    """The clocks the pack starts at this lifecycle moment, at the case's severity."""
    specs = step.policy.clocks_starting(moment, severity=step.case.severity)
    return tuple(spec.clock for spec in specs)


def _refuse(case: Case, *, reason: str, detail: str) -> Refusal:
    return Refusal(reason=reason, detail=detail, state=case.state)


def _acknowledged(step: _Step) -> _Outcome:
    case = step.case
    if case.acknowledged:
        return _refuse(
            case, reason="already_acknowledged", detail="the customer was already acknowledged"
        )
    return replace(case, acknowledged=True), _Effects(stops=(ClockName.ACKNOWLEDGE,))


def _assigned(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    if not (action.assignee or action.department):
        return _refuse(
            case, reason="assignment_needs_assignee", detail="name the handler or the department"
        )
    first = case.state in {S.CLASSIFIED, S.ACKNOWLEDGED}
    if not first:
        return case, _Effects()
    # The first assignment is the dispatch: clocks the pack starts then (first contact, 001).
    return case, _Effects(stops=(ClockName.DISPATCH,), starts=_started_at(step, "dispatch"))


def _contacted(step: _Step) -> _Outcome:
    case = step.case
    stops = () if case.contacted else (ClockName.FIRST_CONTACT,)
    return replace(case, contacted=True), _Effects(stops=stops)


def _contact_failed(step: _Step) -> _Outcome:
    case = step.case
    failures = case.contact_failures + 1
    if case.state is S.RESOLVED:
        return replace(
            case, contact_failures=failures, callback_failures=case.callback_failures + 1
        ), _Effects()
    return replace(case, contact_failures=failures), _Effects()


def _awaiting(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    if not action.reason:
        return _refuse(case, reason="pause_needs_reason", detail="say what the case is waiting for")
    paused = replace(case, paused_at=action.occurred_at, pause_reason=action.reason)
    return paused, _Effects(pauses=True)


def _replied(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    after, credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return after, _Effects(pause=credit)


def _resolved(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    after, credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    after = replace(after, callback_failures=0, callback_answer=None)
    return after, _Effects(
        pause=credit, stops=UNTIL_RESOLVED, starts=_started_at(step, "resolution")
    )


def _callback_done(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    if action.satisfaction is None:
        return _refuse(case, reason="callback_needs_answer", detail="record the customer's answer")
    if action.satisfaction is Satisfaction.UNREACHABLE:
        # Not an answer: it is a failed attempt, and the callback clock keeps running.
        return replace(
            case,
            contact_failures=case.contact_failures + 1,
            callback_failures=case.callback_failures + 1,
        ), _Effects(to_state=S.RESOLVED)
    return replace(case, callback_answer=action.satisfaction), _Effects(stops=(ClockName.CALLBACK,))


def _closed(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    if action.verdict is Verdict.NOT_ACCEPTED:
        return _not_accepted(step)
    if case.state not in {S.RESOLVED, S.CALLBACK_DONE}:
        return _refuse(
            case,
            reason="illegal_transition",
            detail=f"`closed` is not allowed in state `{case.state.value}` before the result "
            "(allowed in: callback_done, resolved; or as not_accepted)",
        )
    attempts = step.policy.failed_callback_attempts
    if case.state is S.RESOLVED and case.callback_failures < attempts:
        return _refuse(
            case,
            reason="closure_needs_callback",
            detail=f"close after a callback answer or {attempts} failed attempts "
            f"({case.callback_failures} logged)",
        )
    if action.verdict is None:
        return _refuse(
            case, reason="closure_needs_verdict", detail="record the verdict (002 Art. 17)"
        )
    if action.verdict in NEEDS_EVIDENCE and not action.evidence:
        return _refuse(
            case,
            reason="verdict_needs_evidence",
            detail=f"`{action.verdict.value}` needs the evidence recorded on the case; a complaint "
            "that cannot be verified is judged in the customer's favour: close it upheld "
            "(002 Art. 17)",
        )
    return replace(case, verdict=action.verdict), _Effects(stops=tuple(ClockName))


def _not_accepted(step: _Step) -> _Outcome:
    """003: a complaint without the evidence it needs is not accepted, with the reason told to
    the customer; every clock stops, and it never counts against the complainant."""
    case, action = step.case, step.action
    if case.state not in NOT_ACCEPTABLE:
        return _refuse(
            case,
            reason="illegal_transition",
            detail=f"`not_accepted` is decided before the result, not in `{case.state.value}`",
        )
    if not action.reason:
        return _refuse(
            case,
            reason="not_accepted_needs_reason",
            detail="say why the complaint is not accepted: the customer is told",
        )
    after, _credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return replace(after, verdict=Verdict.NOT_ACCEPTED), _Effects(stops=tuple(ClockName))


def _reopened(step: _Step) -> _Outcome:
    case = step.case
    after = replace(
        case,
        reopen_count=case.reopen_count + 1,
        callback_answer=None,
        callback_failures=0,
        verdict=None,
    )
    starts = (ClockName.RESOLUTION, ClockName.PROGRESS_UPDATE, *_started_at(step, "reopening"))
    return after, _Effects(stops=(ClockName.CALLBACK,), starts=tuple(dict.fromkeys(starts)))


def _withdrawn(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    after, _credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return after, _Effects(stops=tuple(ClockName))


def _extended(step: _Step) -> _Outcome:
    case, action = step.case, step.action
    if action.clock is None or action.extend_by_hours is None:
        return _refuse(
            case, reason="extension_incomplete", detail="name the clock and the hours to add"
        )
    if not action.approver:
        return _refuse(
            case, reason="extension_needs_approval", detail="an extension needs an approver"
        )
    if action.extend_by_hours > MAX_EXTENSION_HOURS:
        return _refuse(
            case,
            reason="extension_too_long",
            detail=f"an extension adds at most {MAX_EXTENSION_HOURS:g} hours",
        )
    return case, _Effects(extension=(action.clock, action.extend_by_hours))


_RULES: dict[LifecycleAction, _Rule] = {
    A.ACKNOWLEDGED: _acknowledged,
    A.ASSIGNED: _assigned,
    A.CONTACTED: _contacted,
    A.CONTACT_FAILED: _contact_failed,
    A.AWAITING_CUSTOMER: _awaiting,
    A.CUSTOMER_REPLIED: _replied,
    A.RESOLVED: _resolved,
    A.CALLBACK_DONE: _callback_done,
    A.CLOSED: _closed,
    A.REOPENED: _reopened,
    A.WITHDRAWN: _withdrawn,
    A.DEADLINE_EXTENDED: _extended,
}


def apply_action(
    case: Case,
    action: CaseAction,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar | None = None,
) -> Transition | Refusal:
    """Apply one staff-side action, or refuse it with a reason; the case is never mutated."""
    if any(entry.action_id == action.action_id for entry in case.history):
        return _refuse(
            case, reason="duplicate_action", detail=f"action {action.action_id} was already applied"
        )
    targets = LEGAL[action.action]
    if case.state not in targets:
        allowed = ", ".join(sorted(s.value for s in targets)) or "nowhere"
        return _refuse(
            case,
            reason="illegal_transition",
            detail=f"`{action.action.value}` is not allowed in state `{case.state.value}` "
            f"(allowed in: {allowed})",
        )
    outcome = _RULES[action.action](_Step(case, action, policy, calendar))
    if isinstance(outcome, Refusal):
        return outcome
    after, effects = outcome
    target = effects.to_state or targets[case.state]
    entry = HistoryEntry(
        action_id=action.action_id,
        action=action.action,
        actor=action.actor,
        at=action.occurred_at,
        from_state=case.state,
        to_state=target,
        reason=action.reason,
    )
    after = replace(after, state=target, history=(*case.history, entry))
    return Transition(
        case=after,
        action=action.action,
        from_state=case.state,
        to_state=target,
        stops=effects.stops,
        starts=effects.starts,
        pauses=effects.pauses,
        pause=effects.pause,
        extension=effects.extension,
    )
