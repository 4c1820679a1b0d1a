"""Which staff action may move a case from which state to which (DOMAIN.md §6)."""

from __future__ import annotations

from contracts import CaseState, ClockName, LifecycleAction, Verdict

S = CaseState
A = LifecycleAction

TERMINAL = frozenset({S.CLOSED, S.REJECTED, S.DUPLICATE, S.WITHDRAWN, S.ROUTED, S.ENQUIRY})
# Clocks that run until the result is given; all of them stop on resolution.
UNTIL_RESOLVED = tuple(c for c in ClockName if c is not ClockName.CALLBACK)

_WITHDRAWABLE = (
    S.RECEIVED,
    S.NORMALIZED,
    S.CLASSIFIED,
    S.ACKNOWLEDGED,
    S.DISPATCHED,
    S.IN_PROGRESS,
    S.AWAITING_CUSTOMER,
    S.RESOLVED,
    S.CALLBACK_DONE,
    S.REOPENED,
)

# Where a complaint can still be found not accepted (003: it lacks the evidence it needs).
NOT_ACCEPTABLE = (
    S.CLASSIFIED,
    S.ACKNOWLEDGED,
    S.DISPATCHED,
    S.IN_PROGRESS,
    S.AWAITING_CUSTOMER,
)
NEEDS_EVIDENCE = frozenset({Verdict.BASELESS, Verdict.MALICIOUS})

# Open cases, before and after the result: where a regrade or an extension is recorded.
_OPEN = (
    S.CLASSIFIED,
    S.ACKNOWLEDGED,
    S.DISPATCHED,
    S.IN_PROGRESS,
    S.AWAITING_CUSTOMER,
    S.RESOLVED,
    S.REOPENED,
)

# action -> {from state: to state}; the to state equal to the from state means "recorded, no move".
LEGAL: dict[LifecycleAction, dict[CaseState, CaseState]] = {
    A.ACKNOWLEDGED: {
        S.CLASSIFIED: S.ACKNOWLEDGED,
        S.ACKNOWLEDGED: S.ACKNOWLEDGED,  # refused as already_acknowledged, with that reason
        S.DISPATCHED: S.DISPATCHED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.AWAITING_CUSTOMER: S.AWAITING_CUSTOMER,
    },
    A.ASSIGNED: {
        S.CLASSIFIED: S.DISPATCHED,
        S.ACKNOWLEDGED: S.DISPATCHED,
        S.REOPENED: S.DISPATCHED,
        S.DISPATCHED: S.DISPATCHED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.AWAITING_CUSTOMER: S.AWAITING_CUSTOMER,
    },
    A.CONTACTED: {S.DISPATCHED: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS},
    A.CONTACT_FAILED: {
        S.DISPATCHED: S.DISPATCHED,
        S.IN_PROGRESS: S.IN_PROGRESS,
        S.RESOLVED: S.RESOLVED,
    },
    A.AWAITING_CUSTOMER: {S.IN_PROGRESS: S.AWAITING_CUSTOMER},
    A.CUSTOMER_REPLIED: {S.AWAITING_CUSTOMER: S.IN_PROGRESS},
    A.RESOLVED: {S.IN_PROGRESS: S.RESOLVED, S.AWAITING_CUSTOMER: S.RESOLVED},
    A.CALLBACK_DONE: {S.RESOLVED: S.CALLBACK_DONE},
    # Closed after the callback; `not_accepted` (003) also before the result (`_closed` checks).
    A.CLOSED: dict.fromkeys((*NOT_ACCEPTABLE, S.RESOLVED, S.CALLBACK_DONE), S.CLOSED),
    # A lead may undo a withdrawal (issue 20): the case reopens as after a closure.
    A.REOPENED: {
        S.RESOLVED: S.REOPENED,
        S.CALLBACK_DONE: S.REOPENED,
        S.CLOSED: S.REOPENED,
        S.WITHDRAWN: S.REOPENED,
    },
    A.WITHDRAWN: dict.fromkeys(_WITHDRAWABLE, S.WITHDRAWN),
    # A lead's or manager's correction of the classifier's decision: recorded, no move (a changed
    # kind leaves the complaint path: `_regraded` sets the side state).
    A.REGRADED: {state: state for state in _OPEN},
    A.DEADLINE_EXTENDED: {state: state for state in _OPEN},
    # 首问负责: hand-overs are recorded, no move; the owner changes once one is accepted.
    A.HANDOVER_REQUESTED: {state: state for state in _OPEN},
    A.HANDOVER_ACCEPTED: {state: state for state in _OPEN},
    A.HANDOVER_DECLINED: {state: state for state in _OPEN},
    # Recorded, no move: clocks the pack keys on complexity re-plan (the use-case does it).
    A.COMPLEXITY_MARKED: {state: state for state in _OPEN},
    A.CALENDAR_REPLANNED: {state: state for state in _OPEN},
}
