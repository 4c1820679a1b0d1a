"""首问负责 (001, 000): the first to act on a case owns it until a hand-over is accepted.

A hand-over is asked of a department with a reason; the receiving department's staff accept it
(they own the case from then on) or decline it with a reason (the owner keeps it). While it waits,
the pack's `handover` clock runs, warning and escalating like the other clocks, so no case is left
between two desks.
"""

from __future__ import annotations

from dataclasses import replace

from contracts import CaseAction, ClockName
from sla.domain.case import Case, Handover
from sla.domain.lifecycle_steps import Effects, Outcome, Step, refuse, started_at


def with_owner(case: Case, action: CaseAction) -> Case:
    """The case with its first owner: whoever acted on it first (the person or desk that
    received it)."""
    return case if case.owner is not None else replace(case, owner=action.actor)


def handover_requested(step: Step) -> Outcome:
    """The owner asks a department to take the case over; the hand-over clock starts."""
    case, action = step.case, step.action
    if not action.department or not (action.reason or "").strip():
        return refuse(
            case,
            reason="handover_incomplete",
            detail="name the department asked to take the case over and the reason",
        )
    if case.pending_handover is not None:
        return refuse(
            case,
            reason="handover_pending",
            detail=f"a hand-over to `{case.pending_handover.department}` waits for its answer",
        )
    if case.owner_department is not None and action.department == case.owner_department:
        return refuse(
            case, reason="handover_to_owner", detail="the case is already owned by that department"
        )
    asked = Handover(
        action_id=action.action_id,
        department=action.department,
        reason=action.reason or "",
        requested_by=action.actor,
        requested_at=action.occurred_at,
    )
    return replace(case, handovers=(*case.handovers, asked)), Effects(
        starts=started_at(step, "handover")
    )


def handover_answered(step: Step, *, accepted: bool) -> Outcome:
    """The receiving department's answer: accepted moves the ownership, declined keeps it."""
    case, action = step.case, step.action
    pending = case.pending_handover
    if pending is None:
        return refuse(case, reason="no_pending_handover", detail="no hand-over waits for an answer")
    if action.department != pending.department:
        return refuse(
            case,
            reason="handover_wrong_department",
            detail=f"the hand-over was asked of `{pending.department}`: its staff answer it "
            "(give `department`)",
        )
    if not accepted and not (action.reason or "").strip():
        return refuse(
            case, reason="decline_needs_reason", detail="say why the department declines the case"
        )
    answer = replace(
        pending,
        status="accepted" if accepted else "declined",
        decided_by=action.actor,
        decided_at=action.occurred_at,
        decision_reason=action.reason,
    )
    handovers = tuple(answer if h is pending else h for h in case.handovers)
    after = replace(case, handovers=handovers)
    if accepted:
        after = replace(after, owner=action.actor, owner_department=pending.department)
    return after, Effects(stops=(ClockName.HANDOVER,))


def handover_accepted(step: Step) -> Outcome:
    """`handover_accepted`: the receiving department owns the case from now."""
    return handover_answered(step, accepted=True)


def handover_declined(step: Step) -> Outcome:
    """`handover_declined`: the owner keeps the case (and may ask elsewhere)."""
    return handover_answered(step, accepted=False)
