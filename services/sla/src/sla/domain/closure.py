"""Closing a case: after the result and the callback with a verdict (002 Art. 17), or before the
result as not accepted (003)."""

from __future__ import annotations

from dataclasses import replace

from contracts import CaseState, ClockName, Verdict
from sla.domain.lifecycle_steps import Effects, Outcome, Step, refuse
from sla.domain.pausing import end_pause
from sla.domain.transitions import NEEDS_EVIDENCE, NOT_ACCEPTABLE

S = CaseState


def closed(step: Step) -> Outcome:
    """`closed`: with a verdict after the callback, or `not_accepted` before the result."""
    case, action = step.case, step.action
    if action.verdict is Verdict.NOT_ACCEPTED:
        return not_accepted(step)
    if case.state not in {S.RESOLVED, S.CALLBACK_DONE}:
        return refuse(
            case,
            reason="illegal_transition",
            detail=f"`closed` is not allowed in state `{case.state.value}` before the result "
            "(allowed in: callback_done, resolved; or as not_accepted)",
        )
    attempts = step.policy.failed_callback_attempts
    if case.state is S.RESOLVED and case.callback_failures < attempts:
        return refuse(
            case,
            reason="closure_needs_callback",
            detail=f"close after a callback answer or {attempts} failed attempts "
            f"({case.callback_failures} logged)",
        )
    if action.verdict is None:
        return refuse(
            case, reason="closure_needs_verdict", detail="record the verdict (002 Art. 17)"
        )
    if action.verdict in NEEDS_EVIDENCE and not action.evidence:
        return refuse(
            case,
            reason="verdict_needs_evidence",
            detail=f"`{action.verdict.value}` needs the evidence recorded on the case; a complaint "
            "that cannot be verified is judged in the customer's favour: close it upheld "
            "(002 Art. 17)",
        )
    return replace(case, verdict=action.verdict), Effects(stops=tuple(ClockName))


def not_accepted(step: Step) -> Outcome:
    """003: a complaint without the evidence it needs is not accepted, with the reason told to
    the customer; every clock stops, and it never counts against the complainant."""
    case, action = step.case, step.action
    if case.state not in NOT_ACCEPTABLE:
        return refuse(
            case,
            reason="illegal_transition",
            detail=f"`not_accepted` is decided before the result, not in `{case.state.value}`",
        )
    if not action.reason:
        return refuse(
            case,
            reason="not_accepted_needs_reason",
            detail="say why the complaint is not accepted: the customer is told",
        )
    after, _credit = end_pause(
        case=case, resumed_at=action.occurred_at, policy=step.policy, calendar=step.calendar
    )
    return replace(after, verdict=Verdict.NOT_ACCEPTED), Effects(stops=tuple(ClockName))
