"""What-if totals: per clock and per upgrade, baseline against candidate (see `whatif`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import ClockName, Severity
from sla.domain.whatif import (
    EXAMPLES,
    CaseFacts,
    CaseReplay,
    Outcome,
    Rules,
    replay_case,
    verdict,
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
        was, now = verdict(base)[0], verdict(cand)[0]
        self.newly_breached += int(now and not was)
        self.no_longer_breached += int(was and not now)
        if verdict(base) != verdict(cand) and len(self.examples) < EXAMPLES:
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
