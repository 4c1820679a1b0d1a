"""The `CaseStateChanged` an accepted action publishes (staff actions, an incident's close)."""

from __future__ import annotations

from contracts import (
    CaseAction,
    CaseStateChanged,
    CaseTransition,
    LifecycleAction,
    Verdict,
)
from sla.domain import Transition
from sla.ports import CaseRecord

SOURCE = "/complaints/sla"


def _tells_reason(action: CaseAction) -> bool:
    """Whether the state event carries the action's reason (masked at the source)."""
    return action.verdict is Verdict.NOT_ACCEPTED or action.action in {
        LifecycleAction.HANDOVER_REQUESTED,
        LifecycleAction.HANDOVER_DECLINED,
    }


def state_event(
    record: CaseRecord, action: CaseAction, step: Transition, review: str | None
) -> CaseStateChanged:
    """The state event of an accepted action (its id from the action id: republish-safe)."""
    data = CaseTransition(
        complaint_id=action.complaint_id,
        action=action.action,
        action_id=action.action_id,
        actor=action.actor,
        occurred_at=action.occurred_at,
        from_state=step.from_state,
        to_state=step.to_state,
        severity=record.case.severity,
        assignee=action.assignee,
        department=action.department,
        satisfaction=action.satisfaction,
        verdict=action.verdict,
        reason=action.reason if _tells_reason(action) else None,
        clock=action.clock,
        owner=step.case.owner,
        owner_department=step.case.owner_department,
        complex=action.complex,
        review_needed=review is not None,
    )
    return CaseStateChanged.build(
        data=data,
        subject=action.complaint_id,
        source=SOURCE,
        time=action.occurred_at,
        cause=f"{action.action_id}@accepted",
    )
