"""The parts every lifecycle rule shares: the step it looks at, the effects it asks for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts import CaseAction, CaseState, ClockName
from sla.domain.calendar import BusinessCalendar
from sla.domain.case import Case, PauseCredit, Refusal
from sla.domain.policy import SlaPolicy, Start


@dataclass(frozen=True)
class Effects:
    """What an accepted action does to the clocks (and a state other than the table's)."""

    stops: tuple[ClockName, ...] = ()
    starts: tuple[ClockName, ...] = ()
    pauses: bool = False
    pause: PauseCredit | None = None
    extension: tuple[ClockName, float] | None = None
    to_state: CaseState | None = None  # overrides the table (an unreachable callback stays put)


@dataclass(frozen=True)
class Step:
    """One action on one case, with the pack it is judged by."""

    case: Case
    action: CaseAction
    policy: SlaPolicy
    calendar: BusinessCalendar | None


Outcome = tuple[Case, Effects] | Refusal
Rule = Callable[[Step], Outcome]


def started_at(step: Step, moment: Start) -> tuple[ClockName, ...]:
    """The clocks the pack starts at this lifecycle moment, at the case's severity."""
    specs = step.policy.clocks_starting(moment, severity=step.case.severity)
    return tuple(spec.clock for spec in specs)


def refuse(case: Case, *, reason: str, detail: str) -> Refusal:
    """The action refused, with its reason, in the case's state."""
    return Refusal(reason=reason, detail=detail, state=case.state)
