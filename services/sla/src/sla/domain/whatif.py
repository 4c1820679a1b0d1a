"""What-if replay: stored complaints' clocks judged afresh under a baseline and a candidate.

Both sides are recomputed from the same facts (receipt, severity, channel, flags, referral due time,
credited pauses, when each clock stopped), so the comparison is like for like; stored due times are
only compared with the recomputed baseline, to show deadlines made under older rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import Channel, ClockName, FlagName, Severity
from sla.domain.calendar import BusinessCalendar
from sla.domain.deadlines import (
    Deadline,
    deadlines_at_receipt,
    severity_upgrade_due,
    shift_for_pause,
)
from sla.domain.policy import BREACH, SlaPolicy

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


@dataclass(frozen=True)
class ClockRecord:
    """Occurrence 1 of one clock as stored: its due time, and when and how it stopped."""

    due_at: datetime | None = None
    stopped_at: datetime | None = None  # None while the clock runs
    met: bool = False  # stopped because its goal was reached (else cancelled)
    paused: bool = False  # in a running pause whose start is not stored: cannot be judged


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
    clocks: Mapping[ClockName, ClockRecord] = field(default_factory=dict)
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
            _verdict(self.baseline.get(c)) != _verdict(self.candidate.get(c)) for c in clocks
        )


def _verdict(outcome: Outcome | None) -> tuple[bool, int]:
    if outcome is None or not outcome.judged:
        return False, 0
    return outcome.breached, outcome.escalations


def _after_pauses(
    deadline: Deadline,
    record: ClockRecord | None,
    pauses: Iterable[PauseWindow],
    cal: BusinessCalendar,
) -> Deadline:
    """Shift by each pause that began while the clock still ran (the service moves open clocks)."""
    stopped = record.stopped_at if record is not None else None
    for pause in sorted(pauses, key=lambda p: p.paused_at):
        if stopped is None or stopped > pause.paused_at:
            deadline = shift_for_pause(
                deadline=deadline,
                paused_at=pause.paused_at,
                resumed_at=pause.credited_until,
                calendar=cal,
            )
    return deadline


def _judge(deadline: Deadline, record: ClockRecord | None, now: datetime) -> Outcome:
    if record is None or record.paused:
        return Outcome(due_at=deadline.due_at)
    # A stop after `now` has not happened yet as of `now`.
    stopped = record.stopped_at
    if stopped is not None and stopped > now:
        stopped = None
    end = stopped or now
    breached = end > deadline.due_at
    return Outcome(
        due_at=deadline.due_at,
        judged=True,
        breached=breached,
        escalations=sum(1 for pct, at in deadline.thresholds.items() if pct > BREACH and end > at),
        on_time=stopped is not None and record.met and not breached,
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


@dataclass
class Pair:
    """A count under the baseline and under the candidate."""

    baseline: int = 0
    candidate: int = 0

    def add(self, baseline: bool | int, candidate: bool | int) -> None:
        """Add one complaint's contribution to each side."""
        self.baseline += int(baseline)
        self.candidate += int(candidate)


def _rate(on_time: int, decided: int) -> float | None:
    return on_time / decided if decided else None


@dataclass
class ClockTally:
    """One clock across the replayed complaints.

    Timely-handling rate: clocks met by their due time among clocks whose outcome is known (met,
    or breached); a clock still running before its due time, or cancelled before it, is not known.
    """

    judged: Pair = field(default_factory=Pair)
    not_judged: Pair = field(default_factory=Pair)  # no stored stop, or in a running pause
    breaches: Pair = field(default_factory=Pair)
    escalations: Pair = field(default_factory=Pair)
    on_time: Pair = field(default_factory=Pair)
    decided: Pair = field(default_factory=Pair)
    newly_breached: int = 0
    no_longer_breached: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def timely_rate(self) -> tuple[float | None, float | None]:
        """Timely-handling rate under the baseline and the candidate (None: nothing known)."""
        return (
            _rate(self.on_time.baseline, self.decided.baseline),
            _rate(self.on_time.candidate, self.decided.candidate),
        )

    def add(self, complaint_id: str, base: Outcome | None, cand: Outcome | None) -> None:
        """Count one complaint's clock (None: the rule set does not run it for this complaint)."""
        pairs = (
            self.judged,
            self.not_judged,
            self.breaches,
            self.escalations,
            self.on_time,
            self.decided,
        )
        for pair, b, c in zip(pairs, _counts(base), _counts(cand), strict=True):
            pair.add(b, c)
        was, now = _verdict(base)[0], _verdict(cand)[0]
        self.newly_breached += int(now and not was)
        self.no_longer_breached += int(was and not now)
        if _verdict(base) != _verdict(cand) and len(self.examples) < EXAMPLES:
            self.examples.append(complaint_id)


def _counts(outcome: Outcome | None) -> tuple[int, ...]:
    """judged, not judged, breached, escalations, on time, decided."""
    if outcome is None:
        return (0, 0, 0, 0, 0, 0)
    decided = outcome.on_time or outcome.breached
    return (
        int(outcome.judged),
        int(not outcome.judged),
        int(outcome.breached),
        outcome.escalations,
        int(outcome.on_time),
        int(decided),
    )


@dataclass
class UpgradeTally:
    """One severity upgrade across the replayed complaints."""

    reached: Pair = field(default_factory=Pair)
    newly: int = 0
    no_longer: int = 0

    def add(self, *, baseline: bool, candidate: bool) -> None:
        """Count one complaint."""
        self.reached.add(baseline, candidate)
        self.newly += int(candidate and not baseline)
        self.no_longer += int(baseline and not candidate)


@dataclass
class WhatIfReport:
    """The comparison over every replayed complaint."""

    baseline: Rules
    candidate: Rules
    now: datetime
    cases: int = 0
    changed: int = 0
    drifted_clocks: int = 0
    drifted_cases: int = 0
    clocks: dict[ClockName, ClockTally] = field(default_factory=dict)
    upgrades: dict[Severity, UpgradeTally] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, replay: CaseReplay) -> None:
        """Fold one complaint's replay into the totals."""
        self.cases += 1
        for clock in sorted(replay.baseline.keys() | replay.candidate.keys()):
            tally = self.clocks.setdefault(clock, ClockTally())
            tally.add(replay.complaint_id, replay.baseline.get(clock), replay.candidate.get(clock))
        for target in sorted(replay.upgrades[0] | replay.upgrades[1]):
            self.upgrades.setdefault(target, UpgradeTally()).add(
                baseline=target in replay.upgrades[0], candidate=target in replay.upgrades[1]
            )
        self.drifted_clocks += replay.drift
        self.drifted_cases += int(replay.drift > 0)
        if replay.changed:
            self.changed += 1
            if len(self.examples) < EXAMPLES:
                self.examples.append(replay.complaint_id)

    def replay(self, facts: CaseFacts) -> CaseReplay:
        """Judge one complaint under both rule sets as of the report's `now`, and count it."""
        result = replay_case(facts, baseline=self.baseline, candidate=self.candidate, now=self.now)
        self.add(result)
        return result
