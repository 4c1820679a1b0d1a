"""Re-planning a clock sheet when the case's severity changes, and moving its time-based upgrades
across a pause.

A new severity (a time-based upgrade, or a lead's regrade) re-plans every running clock from its
own start on the new level's amounts — the time already used and the pause credit kept, thresholds
already passed staying passed — so a clock that is now shorter falls due sooner, and its warnings
and escalations go to the new level's audiences. Clocks the new level does not run are cancelled;
receipt clocks it adds (a P1's preliminary reply, progress updates) start now; upgrades to a level
the case already has are cancelled. A new category (a regrade) or complexity mark
(`complexity_marked`) re-plans the same way the clocks whose amount the pack keys on it.

Upgrades count only time attributable to us (Vanke T12/T13: "由于我方原因"): while the case waits
for the customer they move later like the other clocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts import Channel, ClockName, FlagName, Severity
from sla.clocks.sheet import ClockEntry, ClockStatus, Threshold, entry_of, upsert
from sla.domain import BusinessCalendar, ClockSpec, SlaPolicy, build_deadline
from sla.domain.timing import advance


@dataclass(frozen=True)
class Keys:
    """What a clock's amount is keyed on besides the severity: category and complexity mark."""

    category: str | None = None
    complex_case: bool = False


def replan_for_severity(
    sheet: Sequence[ClockEntry],
    *,
    severity: Severity,
    channel: Channel,
    flags: Iterable[FlagName],
    now: datetime,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    keys: Keys = Keys(),
    previous: Keys | None = None,
) -> tuple[ClockEntry, ...]:
    """The sheet re-planned on `severity` and `keys` (see the module docstring). With `previous`
    (the severity unchanged, a new category or complexity mark), only the clocks whose amount
    changed with the keys re-plan."""
    flag_list = list(flags)

    def spec_of(clock: ClockName, at: Keys) -> ClockSpec | None:
        return policy.spec(
            clock=clock, severity=severity, category=at.category, complex_case=at.complex_case
        )

    changed: list[ClockEntry] = []
    for entry in sheet:
        if not entry.running:
            continue
        if entry.clock is None:
            if entry.upgrade_to is not None and Severity(entry.upgrade_to).rank >= severity.rank:
                changed.append(replace(entry, status=ClockStatus.CANCELLED, stopped_at=now))
            continue
        if entry.pause_base is not None:
            continue  # waiting for the customer: re-planned when the regrade comes after resume
        spec = spec_of(entry.clock, keys)
        if previous is not None and spec == spec_of(entry.clock, previous):
            continue  # not keyed on what changed: its plan (extensions included) stays
        if spec is None:
            changed.append(replace(entry, status=ClockStatus.CANCELLED, stopped_at=now))
            continue
        changed.append(
            replanned(
                entry, spec, severity=severity, flags=flag_list, policy=policy, calendar=calendar
            )
        )
    present = {e.clock for e in sheet if e.clock is not None}
    added = policy.clocks_for(
        severity=severity,
        channel=channel,
        flags=flag_list,
        category=keys.category,
        complex_case=keys.complex_case,
    )
    for spec in added:
        if spec.clock not in present:
            started = build_deadline(
                spec=spec,
                started_at=now,
                severity=severity,
                flags=flag_list,
                policy=policy,
                calendar=calendar,
            )
            changed.append(entry_of(started, severity.value, repeat=spec.repeat))
    return upsert(sheet, changed)


def replanned(
    entry: ClockEntry,
    spec: ClockSpec,
    *,
    severity: Severity,
    flags: Sequence[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> ClockEntry:
    """`entry` planned again from its own start on `spec` and `calendar`: the pause credit it
    had added back, thresholds already passed staying passed (an extension is not kept)."""
    plan = build_deadline(
        spec=spec,
        started_at=entry.started_at,
        severity=severity,
        flags=flags,
        policy=policy,
        calendar=calendar,
        occurrence=entry.occurrence,
    )
    fresh = entry_of(plan, severity.value, repeat=spec.repeat, round_=entry.round)
    credit = timedelta(seconds=entry.paused_seconds)
    if credit > timedelta(0):
        fresh = _later(fresh, credit, calendar=calendar)
    return replace(
        fresh,
        key=entry.key,
        passed=entry.passed,
        paused_seconds=entry.paused_seconds,
        lease=entry.lease,
    )


def calendar_moves(
    sheet: Sequence[ClockEntry],
    *,
    severity: Severity,
    flags: Sequence[FlagName],
    keys: Keys,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> list[tuple[ClockEntry, ClockEntry]]:
    """(old, new) for each running, unpaused clock whose due or calendar version changes when
    planned again on `calendar` (`complaints sla replan`). Paused clocks are re-planned by their
    resume; an overlay's clock (no pack spec) keeps its plan."""
    moves = []
    for entry in sheet:
        if not entry.running or entry.clock is None or entry.pause_base is not None:
            continue
        spec = policy.spec(
            clock=entry.clock,
            severity=severity,
            category=keys.category,
            complex_case=keys.complex_case,
        )
        if spec is None:
            continue
        new = replanned(
            entry, spec, severity=severity, flags=flags, policy=policy, calendar=calendar
        )
        if (new.due_at, new.calendar_version) != (entry.due_at, entry.calendar_version):
            moves.append((entry, new))
    return moves


def _later(entry: ClockEntry, credit: timedelta, *, calendar: BusinessCalendar) -> ClockEntry:
    """The entry's due and thresholds moved later by `credit`, counted in its unit."""

    def moved(moment: datetime) -> datetime:
        return advance(start=moment, amount=credit, unit=entry.unit, calendar=calendar)

    return replace(
        entry,
        due_at=moved(entry.due_at),
        thresholds=tuple(replace(t, at=moved(t.at)) for t in entry.thresholds),
    )


def pause_upgrades(
    sheet: Sequence[ClockEntry], *, paused_at: datetime, planned_until: datetime
) -> list[ClockEntry]:
    """Running upgrades planned as if the pause lasts until `planned_until` (its cap)."""
    by = planned_until - paused_at
    return [
        replace(_shifted(e, by), pause_base=(e.due_at, e.thresholds))
        for e in sheet
        if e.running and e.clock is None and e.pause_base is None and e.due_at > paused_at
    ]


def resume_upgrades(sheet: Sequence[ClockEntry], *, credited: timedelta) -> list[ClockEntry]:
    """Paused upgrades moved from their pre-pause plan by the credited (capped) pause."""
    out = []
    for e in sheet:
        if e.running and e.clock is None and e.pause_base is not None:
            base = replace(e, due_at=e.pause_base[0], thresholds=e.pause_base[1], pause_base=None)
            out.append(replace(_shifted(base, credited), paused_seconds=e.paused_seconds))
    return out


def _shifted(entry: ClockEntry, by: timedelta) -> ClockEntry:
    return replace(
        entry,
        due_at=entry.due_at + by,
        thresholds=tuple(Threshold(t.percent, t.at + by, t.audiences) for t in entry.thresholds),
    )
