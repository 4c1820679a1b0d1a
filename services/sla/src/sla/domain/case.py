"""What the lifecycle state machine keeps about a case, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import CaseState, ClockName, LifecycleAction, Satisfaction, Severity, Verdict


@dataclass(frozen=True)
class HistoryEntry:
    """One applied action, as the case remembers it."""

    action_id: str
    action: LifecycleAction
    actor: str
    at: datetime
    from_state: CaseState
    to_state: CaseState
    reason: str | None = None


@dataclass(frozen=True)
class Handover:
    """One hand-over request (首问负责) and, once decided, its answer."""

    action_id: str
    department: str  # the department asked to take the case over
    reason: str
    requested_by: str
    requested_at: datetime
    status: str = "pending"  # pending | accepted | declined
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    @property
    def pending(self) -> bool:
        """Whether the receiving department has not answered yet."""
        return self.status == "pending"


@dataclass(frozen=True)
class Case:
    """What the state machine knows about one complaint."""

    state: CaseState
    severity: Severity
    paused_at: datetime | None = None
    pause_reason: str | None = None
    paused_total: timedelta = timedelta(0)  # pause credited so far, in the pause cap's measure
    contact_failures: int = 0  # every failed contact attempt
    callback_failures: int = 0  # failed callback attempts since the last resolution
    callback_answer: Satisfaction | None = None
    verdict: Verdict | None = None
    acknowledged: bool = False
    contacted: bool = False
    reopen_count: int = 0
    history: tuple[HistoryEntry, ...] = ()
    owner: str | None = None  # 首问负责: the first to act, until a hand-over is accepted
    owner_department: str | None = None
    handovers: tuple[Handover, ...] = ()
    complex_case: bool = False  # marked complex by a lead or manager (`complexity_marked`)
    extended_total: timedelta = timedelta(0)  # natural time approved extensions moved dues by

    @property
    def pending_handover(self) -> Handover | None:
        """The hand-over waiting for the receiving department's answer, if any."""
        return next((h for h in self.handovers if h.pending), None)


@dataclass(frozen=True)
class PauseCredit:
    """A finished pause: open deadlines move later by [paused_at, credited_until]."""

    paused_at: datetime
    resumed_at: datetime
    credited_until: datetime
    capped: bool


@dataclass(frozen=True)
class Transition:
    """An accepted action: the new case and what it means for the clocks."""

    case: Case
    action: LifecycleAction
    from_state: CaseState
    to_state: CaseState
    stops: tuple[ClockName, ...] = ()
    starts: tuple[ClockName, ...] = ()
    pauses: bool = False
    pause: PauseCredit | None = None
    extension: tuple[ClockName, float] | None = None


@dataclass(frozen=True)
class Refusal:
    """A rejected action, with a machine-readable reason code and a human-readable detail."""

    reason: str
    detail: str
    state: CaseState


def open_case(*, severity: Severity, state: CaseState = CaseState.CLASSIFIED) -> Case:
    """A new case, as the SLA service first sees it (classified, clocks about to start)."""
    return Case(state=state, severity=severity)
