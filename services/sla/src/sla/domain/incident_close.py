"""Closing a mass incident resolves its open member cases (issue 17: callbacks still happen).

Operations closing the incident gave the result for every member at once: each member still
before its result moves to `resolved` as if the result had been given then — its clocks until
the result stop (met), the callback starts. A member found past its result, closed or out of
the complaint path is left as it is.
"""

from __future__ import annotations

from dataclasses import replace

from contracts import CaseAction, CaseState, LifecycleAction
from sla.domain.calendar import BusinessCalendar
from sla.domain.case import Case, Refusal, Transition
from sla.domain.lifecycle import apply_action
from sla.domain.policy import SlaPolicy

S = CaseState
RESOLVABLE = frozenset(
    {S.CLASSIFIED, S.ACKNOWLEDGED, S.DISPATCHED, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.REOPENED}
)
"""Where a member case is still before its result."""


def resolve_for_incident(
    case: Case, action: CaseAction, *, policy: SlaPolicy, calendar: BusinessCalendar
) -> Transition | Refusal:
    """The `resolved` transition an incident's close gives a member case, from any state before
    its result (the staff path's `resolved` needs the case in progress)."""
    assert action.action is LifecycleAction.RESOLVED  # noqa: S101 - built by the use-case
    if case.state not in RESOLVABLE:
        detail = f"the case is {case.state.value}: past its result or off the complaint path"
        return Refusal("not_resolvable", detail, case.state)
    outcome = apply_action(
        replace(case, state=S.IN_PROGRESS), action, policy=policy, calendar=calendar
    )
    if isinstance(outcome, Refusal):
        return replace(outcome, state=case.state)
    # The history and the transition say where the case really came from.
    *earlier, entry = outcome.case.history
    moved = replace(
        outcome.case,
        history=(*earlier, replace(entry, from_state=case.state)),
        owner=case.owner,  # the incident is nobody's desk: the first owner stays who it was
        owner_department=case.owner_department,
    )
    return replace(outcome, case=moved, from_state=case.state)
