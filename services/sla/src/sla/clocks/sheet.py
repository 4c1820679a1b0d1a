"""The clock sheet: one `ClockEntry` per clock occurrence, kept inside the case document.

This is the one clock record type: the store keeps it, the use-cases change it, the scheduler
fires it and the queries show it. Its status is `contracts.ClockStatus`, the one status enum the
read model, the case API, the cases topic and the CLI share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from contracts import Audience, ClockName, ClockStatus
from sla.domain import Deadline, Unit
from sla.domain.calendar_data import provisional_years_in

CHINA = ZoneInfo("Asia/Shanghai")  # the calendar years of the packs (all on Shanghai time)


@dataclass(frozen=True)
class Threshold:
    """One point at which a clock fires: 50 / 80 % warning, 100 % breach, 150 % escalation."""

    percent: int
    at: datetime
    audiences: tuple[Audience, ...] = ()


@dataclass(frozen=True)
class Lease:
    """The scheduler replica that fired a threshold, until when its publish may still be due."""

    owner: str
    until: datetime


@dataclass(frozen=True)
class ClockEntry:
    """One occurrence of one clock (or a time-based severity upgrade, `clock` None)."""

    key: str  # `<clock>:<occurrence>`, `<clock>:r<round>.<occurrence>` or `upgrade:<level>`
    clock: ClockName | None
    occurrence: int
    severity: str
    started_at: datetime
    due_at: datetime
    thresholds: tuple[Threshold, ...]
    policy_version: str
    calendar_version: str
    status: ClockStatus = ClockStatus.RUNNING
    passed: tuple[int, ...] = ()  # thresholds fired
    unit: Unit = "h"
    repeat: bool = False
    round: int = 0  # restarts of the clock (reopening, another resolution)
    upgrade_to: str | None = None
    stopped_at: datetime | None = None
    # The plan before a running pause (due, thresholds): the resume shifts from it.
    pause_base: tuple[datetime, tuple[Threshold, ...]] | None = None
    paused_seconds: float = 0.0  # pause credit granted to this clock so far, in its unit
    extended_hours: float = 0.0  # approved extensions so far: a re-plan adds them again
    lease: Lease | None = None
    # Earlier closed occurrences of a repeating clock folded into this one to keep the sheet
    # bounded (`compact`): how many were met on time, met late and breached.
    folded: tuple[int, int, int] = (0, 0, 0)

    @property
    def running(self) -> bool:
        """Whether the clock has neither reached its goal nor been cancelled."""
        return self.status is ClockStatus.RUNNING

    @property
    def breached(self) -> bool:
        """Whether the due time was announced as breached."""
        return 100 in self.passed

    def next_threshold(self) -> Threshold | None:
        """The earliest threshold not fired yet (none once stopped)."""
        if not self.running:
            return None
        pending = [t for t in self.thresholds if t.percent not in self.passed]
        return min(pending, key=lambda t: (t.at, t.percent)) if pending else None

    @property
    def provisional(self) -> bool:
        """Whether the due time was computed on a provisional calendar year its span touches."""
        years = provisional_years_in(self.calendar_version)
        if not years:
            return False
        first, last = (moment.astimezone(CHINA).year for moment in (self.started_at, self.due_at))
        return any(first <= year <= last for year in years)

    def deadline_id(self, complaint_id: str) -> str:
        """`<complaint>:<key>`: names the clock in event ids and due-index entries."""
        return f"{complaint_id}:{self.key}"


def clock_key(clock: str, occurrence: int, round_: int = 0) -> str:
    """A clock entry's key within its sheet."""
    return f"{clock}:{occurrence}" if round_ == 0 else f"{clock}:r{round_}.{occurrence}"


def entry_of(
    deadline: Deadline, severity: str, *, repeat: bool = False, round_: int = 0
) -> ClockEntry:
    """The sheet entry for a freshly computed domain deadline."""
    return ClockEntry(
        key=clock_key(deadline.clock.value, deadline.occurrence, round_),
        clock=deadline.clock,
        occurrence=deadline.occurrence,
        severity=severity,
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        thresholds=tuple(
            Threshold(percent, at, deadline.audiences.get(percent, ()))
            for percent, at in sorted(deadline.thresholds.items())
        ),
        policy_version=deadline.policy_version,
        calendar_version=deadline.calendar_version,
        unit=deadline.unit,
        repeat=repeat,
        round=round_,
    )


def as_deadline(entry: ClockEntry) -> Deadline:
    """The domain form of a clock entry (for pause shifts, extensions and repeats)."""
    assert entry.clock is not None  # noqa: S101 - upgrades are never shifted
    return Deadline(
        clock=entry.clock,
        occurrence=entry.occurrence,
        started_at=entry.started_at,
        due_at=entry.due_at,
        thresholds={t.percent: t.at for t in entry.thresholds},
        audiences={t.percent: t.audiences for t in entry.thresholds},
        unit=entry.unit,
        policy_version=entry.policy_version,
        calendar_version=entry.calendar_version,
    )


def with_plan(entry: ClockEntry, plan: Deadline) -> ClockEntry:
    """`entry` with the due and threshold times of `plan` (audiences and fired marks kept)."""
    audiences = {t.percent: t.audiences for t in entry.thresholds}
    return replace(
        entry,
        due_at=plan.due_at,
        thresholds=tuple(
            Threshold(pct, at, audiences.get(pct, ()))
            for pct, at in sorted(plan.thresholds.items())
        ),
        calendar_version=plan.calendar_version,
    )


def upsert(sheet: Sequence[ClockEntry], changed: Iterable[ClockEntry]) -> tuple[ClockEntry, ...]:
    """The sheet with `changed` entries replacing those of the same key, new keys appended."""
    by_key = {e.key: e for e in sheet}
    for entry in changed:
        by_key[entry.key] = entry
    return tuple(by_key.values())


def close_breached(sheet: Sequence[ClockEntry], *, at: datetime) -> tuple[ClockEntry, ...]:
    """The sheet with each breached repeating occurrence closed for good (`breached`) once a
    later occurrence of its clock runs and nothing is left to fire on it (its escalation past
    the breach fired)."""

    def done(entry: ClockEntry) -> bool:
        if not (entry.running and entry.repeat and entry.breached):
            return False
        if any(t.percent not in entry.passed for t in entry.thresholds):
            return False
        return any(
            e.running
            and e.clock is entry.clock
            and e.round == entry.round
            and e.occurrence > entry.occurrence
            for e in sheet
        )

    return tuple(
        replace(e, status=ClockStatus.BREACHED, stopped_at=at) if done(e) else e for e in sheet
    )


def outcome_counts(entry: ClockEntry) -> tuple[int, int, int]:
    """(met on time, met late, breached) of a closed occurrence and what is folded into it."""
    on_time, late, breached = entry.folded
    if entry.status is ClockStatus.MET and entry.stopped_at is not None:
        if entry.stopped_at <= entry.due_at:
            on_time += 1
        else:
            late += 1
    elif entry.status is ClockStatus.BREACHED:
        breached += 1
    return on_time, late, breached


def compact(sheet: Sequence[ClockEntry], *, at: datetime) -> tuple[ClockEntry, ...]:
    """The sheet with breached occurrences closed (`close_breached`) and each repeating clock's
    closed occurrences (per round) folded into the newest closed one: a case open for months
    keeps a few entries, not one per occurrence."""
    sheet = close_breached(sheet, at=at)
    closed: dict[tuple[ClockName | None, int], list[ClockEntry]] = {}
    for entry in sheet:
        if entry.repeat and not entry.running:
            closed.setdefault((entry.clock, entry.round), []).append(entry)
    dropped: set[str] = set()
    kept: dict[str, ClockEntry] = {}
    for entries in closed.values():
        if len(entries) < 2:
            continue
        *older, newest = sorted(entries, key=lambda e: e.occurrence)
        on_time, late, breached = newest.folded
        for e in older:
            more = outcome_counts(e)
            on_time, late, breached = on_time + more[0], late + more[1], breached + more[2]
        kept[newest.key] = replace(newest, folded=(on_time, late, breached))
        dropped |= {e.key for e in older}
    if not dropped:
        return tuple(sheet)
    return tuple(kept.get(e.key, e) for e in sheet if e.key not in dropped)


def earliest(sheet: Iterable[ClockEntry]) -> tuple[ClockEntry, Threshold] | None:
    """The running clock whose next threshold comes first, and that threshold."""
    pending = [(e, t) for e in sheet if (t := e.next_threshold()) is not None]
    return min(pending, key=lambda p: (p[1].at, p[0].key), default=None)
