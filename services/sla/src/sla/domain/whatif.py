"""What-if replay: stored complaints' clocks judged afresh under a baseline and a candidate.

Both sides are recomputed from the same facts (receipt, severity, channel, flags, referral due time,
credited pauses, when each clock stopped), so the comparison is like for like; stored due times are
only compared with the recomputed baseline, to show deadlines made under older rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import Channel, ClockName, ClockStatus, FlagName, Severity
from contracts.read_models import ClockSheetEntry
from sla.domain.calendar import BusinessCalendar
from sla.domain.clock_starts import severity_upgrade_due
from sla.domain.deadlines import Deadline, deadlines_at_receipt
from sla.domain.policy import BREACH, SlaPolicy
from sla.domain.replanning import shift_for_pause

LEFT_OUT: Mapping[ClockName, str] = {
    ClockName.PROGRESS_UPDATE: "each occurrence starts from the previous one, which the rules move",
    ClockName.CALLBACK: "starts at resolution; the stored time is the latest one, not the first",
}
"""Clocks the replay leaves out, and why."""

SAME_DUE = timedelta(seconds=1)
"""Stored and recomputed due times closer than this are the same (MongoDB keeps milliseconds)."""

EXAMPLES = 5
"""Complaint ids kept as examples of a change, overall and per clock."""


@dataclass(frozen=True)
class PauseWindow:
    """A finished pause as credited (already capped): running clocks move later by the window."""

    paused_at: datetime
    credited_until: datetime


def stopped_at(entry: ClockSheetEntry | None) -> datetime | None:
    """When a stored clock occurrence reached its goal or was cancelled; None while it runs."""
    if entry is None or entry.status not in {ClockStatus.MET, ClockStatus.CANCELLED}:
        return None
    return entry.stopped_at


def in_pause(entry: ClockSheetEntry) -> bool:
    """A running clock in a pause whose start the sheet keeps only as its plan: cannot be judged."""
    return entry.status is ClockStatus.RUNNING and entry.pause_base is not None


@dataclass(frozen=True)
class CaseFacts:
    """What a replay needs to know about one complaint."""

    complaint_id: str
    received_at: datetime
    severity: Severity  # at receipt
    channel: Channel
    flags: tuple[FlagName, ...] = ()
    referral_due_at: datetime | None = None
    pauses: tuple[PauseWindow, ...] = ()
    paused_since: datetime | None = None  # a pause still running: counted up to `now`, uncapped
    clocks: Mapping[ClockName, ClockSheetEntry] = field(default_factory=dict)
    """Occurrence 1 of each clock as stored (the read model of the sheet: one clock type)."""
    unresolved_until: datetime | None = None  # first resolution, closure or withdrawal
    stored_upgrades: Mapping[Severity, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    """One side of the comparison: a policy pack and the business calendar it runs on."""

    policy: SlaPolicy
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Outcome:
    """One clock of one complaint under one rule set; unjudged when its stop is unknown."""

    due_at: datetime
    judged: bool = False
    breached: bool = False
    escalations: int = 0  # escalation levels (thresholds past the breach) reached
    on_time: bool = False  # met no later than its due time


@dataclass(frozen=True)
class CaseReplay:
    """One complaint judged under both rule sets."""

    complaint_id: str
    baseline: Mapping[ClockName, Outcome]
    candidate: Mapping[ClockName, Outcome]
    upgrades: tuple[frozenset[Severity], frozenset[Severity]]  # reached: baseline, candidate
    drift: int  # stored due times that differ from the recomputed baseline

    @property
    def changed(self) -> bool:
        """Whether any breach, escalation count or upgrade differs between the two sides."""
        clocks = self.baseline.keys() | self.candidate.keys()
        return self.upgrades[0] != self.upgrades[1] or any(
            verdict(self.baseline.get(c)) != verdict(self.candidate.get(c)) for c in clocks
        )


def verdict(outcome: Outcome | None) -> tuple[bool, int]:
    """(breached, escalation levels reached) of a judged clock; (False, 0) otherwise."""
    if outcome is None or not outcome.judged:
        return False, 0
    return outcome.breached, outcome.escalations


def _after_pauses(
    deadline: Deadline,
    record: ClockSheetEntry | None,
    pauses: Iterable[PauseWindow],
    cal: BusinessCalendar,
) -> Deadline:
    """Shift by each pause that began while the clock still ran (the service moves open clocks)."""
    stopped = stopped_at(record)
    for pause in sorted(pauses, key=lambda p: p.paused_at):
        if stopped is None or stopped > pause.paused_at:
            deadline = shift_for_pause(
                deadline=deadline,
                paused_at=pause.paused_at,
                resumed_at=pause.credited_until,
                calendar=cal,
            )
    return deadline


def _judge(deadline: Deadline, record: ClockSheetEntry | None, now: datetime) -> Outcome:
    if record is None or in_pause(record):
        return Outcome(due_at=deadline.due_at)
    # A stop after `now` has not happened yet as of `now`.
    stopped = stopped_at(record)
    if stopped is not None and stopped > now:
        stopped = None
    end = stopped or now
    breached = end > deadline.due_at
    return Outcome(
        due_at=deadline.due_at,
        judged=True,
        breached=breached,
        escalations=sum(1 for pct, at in deadline.thresholds.items() if pct > BREACH and end > at),
        on_time=stopped is not None and record.status is ClockStatus.MET and not breached,
    )


def outcomes(facts: CaseFacts, rules: Rules, *, now: datetime) -> dict[ClockName, Outcome]:
    """Every replayed clock of the complaint under `rules`, as of `now`."""
    deadlines = deadlines_at_receipt(
        received_at=facts.received_at,
        severity=facts.severity,
        channel=facts.channel,
        referral_due_at=facts.referral_due_at,
        flags=facts.flags,
        policy=rules.policy,
        calendar=rules.calendar,
    )
    pauses = list(facts.pauses)
    if facts.paused_since is not None and facts.paused_since < now:
        pauses.append(PauseWindow(facts.paused_since, now))
    judged: dict[ClockName, Outcome] = {}
    for deadline in deadlines:
        if deadline.clock in LEFT_OUT:
            continue
        record = facts.clocks.get(deadline.clock)
        shifted = _after_pauses(deadline, record, pauses, rules.calendar)
        judged[deadline.clock] = _judge(shifted, record, now)
    return judged


def upgrades_due(facts: CaseFacts, policy: SlaPolicy) -> dict[Severity, datetime]:
    """When the complaint would move up to each severity if still unresolved."""
    due = severity_upgrade_due(
        received_at=facts.received_at, severity=facts.severity, policy=policy
    )
    return {target: at for at, target in due}


def _reached(
    due: Mapping[Severity, datetime], facts: CaseFacts, now: datetime
) -> frozenset[Severity]:
    until = facts.unresolved_until
    end = until if until is not None and until <= now else now
    return frozenset(target for target, at in due.items() if end > at)


def _drift(
    facts: CaseFacts, clocks: Mapping[ClockName, Outcome], upgrades: Mapping[Severity, datetime]
) -> int:
    """Stored due times the recomputed baseline does not reproduce (or does not have at all).

    In a running pause the stored plan assumes the pause lasts to its cap, so clocks are skipped.
    """
    pairs = [
        (record.due_at, clocks[c].due_at if c in clocks else None)
        for c, record in facts.clocks.items()
        if c not in LEFT_OUT and record.due_at is not None and facts.paused_since is None
    ]
    pairs += [(at, upgrades.get(target)) for target, at in facts.stored_upgrades.items()]
    return sum(1 for stored, fresh in pairs if fresh is None or abs(stored - fresh) >= SAME_DUE)


def replay_case(
    facts: CaseFacts, *, baseline: Rules, candidate: Rules, now: datetime
) -> CaseReplay:
    """Judge one complaint under both rule sets as of `now`."""
    base = outcomes(facts, baseline, now=now)
    base_upgrades = upgrades_due(facts, baseline.policy)
    cand_upgrades = upgrades_due(facts, candidate.policy)
    return CaseReplay(
        complaint_id=facts.complaint_id,
        baseline=base,
        candidate=outcomes(facts, candidate, now=now),
        upgrades=(_reached(base_upgrades, facts, now), _reached(cand_upgrades, facts, now)),
        drift=_drift(facts, base, base_upgrades),
    )
