"""The case lifecycle of DOMAIN.md §6 as a pure state machine over staff-side actions."""

from __future__ import annotations

from dataclasses import replace

from contracts import (
    CaseAction,
    CaseState,
    ClockName,
    Kind,
    LifecycleAction,
    Satisfaction,
)
from sla.domain.calendar import BusinessCalendar
from sla.domain.case import Case, HistoryEntry, Refusal, Transition
from sla.domain.closure import closed
from sla.domain.handover import handover_accepted, handover_declined, handover_requested, with_owner
from sla.domain.lifecycle_steps import Effects, Outcome, Rule, Step, refuse, started_at
from sla.domain.pausing import end_pause
from sla.domain.policy import SlaPolicy
from sla.domain.transitions import (
    LEGAL,
    UNTIL_RESOLVED,
)

S = CaseState
A = LifecycleAction

MAX_EXTENSION_HOURS = 2160.0
"""Longest approved extension (90 days; the case API allows no more either)."""


def _acknowledged(step: Step) -> Outcome:
    case = step.case
    if case.acknowledged:
        return refuse(
            case, reason="already_acknowledged", detail="the customer was already acknowledged"
        )
    return replace(case, acknowledged=True), Effects(stops=(ClockName.ACKNOWLEDGE,))


def _assigned(step: Step) -> Outcome:
    case, action = step.case, step.action
    if not (action.assignee or action.department):
        return refuse(
            case, reason="assignment_needs_assignee", detail="name the handler or the department"
        )
    first = case.state in {S.CLASSIFIED, S.ACKNOWLEDGED}
    if not first:
        return case, Effects()
    # The first assignment is the dispatch: clocks the pack starts then (first contact, 001).
    return case, Effects(stops=(ClockName.DISPATCH,), starts=started_at(step, "dispatch"))


def _contacted(step: Step) -> Outcome:
    case = step.case
    stops = () if case.contacted else (ClockName.FIRST_CONTACT,)
    return replace(case, contacted=True), Effects(stops=stops)


def _contact_failed(step: Step) -> Outcome:
    case = step.case
    failures = case.contact_failures + 1
    if case.state is S.RESOLVED:
        return replace(
            case, contact_failures=failures, callback_failures=case.callback_failures + 1
        ), Effects()
    return replace(case, contact_failures=failures), Effects()


def _awaiting(step: Step) -> Outcome:
    case, action = step.case, step.action
    if not action.reason:
        return refuse(case, reason="pause_needs_reason", detail="say what the case is waiting for")
    paused = replace(case, paused_at=action.occurred_at, pause_reason=action.reason)
    return paused, Effects(pauses=True)


def _replied(step: Step) -> Outcome:
    case, action = step.case, step.action
    after, credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return after, Effects(pause=credit)


def _resolved(step: Step) -> Outcome:
    case, action = step.case, step.action
    after, credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    after = replace(after, callback_failures=0, callback_answer=None)
    return after, Effects(pause=credit, stops=UNTIL_RESOLVED, starts=started_at(step, "resolution"))


def _callback_done(step: Step) -> Outcome:
    case, action = step.case, step.action
    if action.satisfaction is None:
        return refuse(case, reason="callback_needs_answer", detail="record the customer's answer")
    if action.satisfaction is Satisfaction.UNREACHABLE:
        # Not an answer: it is a failed attempt, and the callback clock keeps running.
        return replace(
            case,
            contact_failures=case.contact_failures + 1,
            callback_failures=case.callback_failures + 1,
        ), Effects(to_state=S.RESOLVED)
    return replace(case, callback_answer=action.satisfaction), Effects(stops=(ClockName.CALLBACK,))


def _reopened(step: Step) -> Outcome:
    case = step.case
    after = replace(
        case,
        reopen_count=case.reopen_count + 1,
        callback_answer=None,
        callback_failures=0,
        verdict=None,
    )
    starts = (ClockName.RESOLUTION, ClockName.PROGRESS_UPDATE, *started_at(step, "reopening"))
    return after, Effects(stops=(ClockName.CALLBACK,), starts=tuple(dict.fromkeys(starts)))


def _regraded(step: Step) -> Outcome:
    """A corrected decision (issue 16): a new severity re-plans the clocks (the use-case does it
    from the case's new severity); a complaint found to be an enquiry or out of scope leaves the
    complaint path, every clock stopped."""
    case, regrade = step.case, step.action.regrade
    if regrade is None:  # the contract requires it; kept for a hand-built action
        return refuse(case, reason="regrade_incomplete", detail="name the corrected decision")
    if regrade.kind is not Kind.COMPLAINT:
        side = S.ENQUIRY if regrade.kind is Kind.ENQUIRY else S.ROUTED
        return case, Effects(stops=tuple(ClockName), to_state=side)
    assert regrade.severity is not None  # noqa: S101 - a complaint regrade has one (contract)
    return replace(case, severity=regrade.severity), Effects()


def _complexity_marked(step: Step) -> Outcome:
    """A lead's or manager's complexity mark (bank 7-10 wd, hospital 5 wd when complex): the
    clocks whose amount the pack keys on it re-plan (the use-case does it from the new mark)."""
    case, mark = step.case, step.action.complex
    if mark is None:  # the contract requires it; kept for a hand-built action
        return refuse(case, reason="complexity_incomplete", detail="say `complex`: true or false")
    if mark == case.complex_case:
        state = "complex" if mark else "not complex"
        return refuse(case, reason="complexity_unchanged", detail=f"the case is already {state}")
    return replace(case, complex_case=mark), Effects()


def _calendar_replanned(step: Step) -> Outcome:
    """Re-plan the open deadlines on the calendar this service runs (the use-case moves them);
    refused unless the action names that calendar, so nothing moves on a calendar not deployed."""
    case, wanted = step.case, step.action.calendar_version
    calendar = step.calendar or step.policy.calendar
    running = calendar.version if calendar is not None else None
    if not wanted:
        return refuse(case, reason="replan_incomplete", detail="name the `calendar_version`")
    if wanted != running:
        return refuse(
            case,
            reason="calendar_mismatch",
            detail=f"this service runs calendar {running!r}, not {wanted!r}: deploy it first",
        )
    return case, Effects()


def _withdrawn(step: Step) -> Outcome:
    case, action = step.case, step.action
    after, _credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return after, Effects(stops=tuple(ClockName))


def _extended(step: Step) -> Outcome:
    case, action = step.case, step.action
    if action.clock is None or action.extend_by_hours is None:
        return refuse(
            case, reason="extension_incomplete", detail="name the clock and the hours to add"
        )
    if not action.approver:
        return refuse(
            case, reason="extension_needs_approval", detail="an extension needs an approver"
        )
    if action.extend_by_hours > MAX_EXTENSION_HOURS:
        return refuse(
            case,
            reason="extension_too_long",
            detail=f"an extension adds at most {MAX_EXTENSION_HOURS:g} hours",
        )
    return case, Effects(extension=(action.clock, action.extend_by_hours))


_RULES: dict[LifecycleAction, Rule] = {
    A.ACKNOWLEDGED: _acknowledged,
    A.ASSIGNED: _assigned,
    A.CONTACTED: _contacted,
    A.CONTACT_FAILED: _contact_failed,
    A.AWAITING_CUSTOMER: _awaiting,
    A.CUSTOMER_REPLIED: _replied,
    A.RESOLVED: _resolved,
    A.CALLBACK_DONE: _callback_done,
    A.CLOSED: closed,
    A.REOPENED: _reopened,
    A.WITHDRAWN: _withdrawn,
    A.REGRADED: _regraded,
    A.DEADLINE_EXTENDED: _extended,
    A.HANDOVER_REQUESTED: handover_requested,
    A.HANDOVER_ACCEPTED: handover_accepted,
    A.HANDOVER_DECLINED: handover_declined,
    A.COMPLEXITY_MARKED: _complexity_marked,
    A.CALENDAR_REPLANNED: _calendar_replanned,
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
        return refuse(
            case, reason="duplicate_action", detail=f"action {action.action_id} was already applied"
        )
    targets = LEGAL[action.action]
    if case.state not in targets:
        allowed = ", ".join(sorted(s.value for s in targets)) or "nowhere"
        return refuse(
            case,
            reason="illegal_transition",
            detail=f"`{action.action.value}` is not allowed in state `{case.state.value}` "
            f"(allowed in: {allowed})",
        )
    outcome = _RULES[action.action](Step(case, action, policy, calendar))
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
    after = replace(with_owner(after, action), state=target, history=(*case.history, entry))
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
