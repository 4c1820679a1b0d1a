"""Re-planning a clock sheet when the case's severity, keys or calendar change.

A new severity (a time-based upgrade, or a lead's regrade) re-plans every running clock from its
own start on the new level's amounts — the time already used, the pause credit and approved
extensions kept, thresholds already passed staying passed — so a clock that is now shorter falls
due sooner, and its warnings and escalations go to the new level's audiences. Clocks the new level
does not run are cancelled; an overlay's clock (the regulator's reply: keyed on the channel, not
the severity) keeps its plan, and still caps the clocks it caps. Receipt clocks the new level adds
(a P1's preliminary reply, progress updates) start now; upgrades to a level the case already has
are cancelled. A new category (a regrade) or complexity mark (`complexity_marked`) re-plans the
same way the clocks whose amount the pack keys on it.

A clock paused for the customer stays paused: its pre-pause plan is re-planned, and its plan while
paused is that plan shifted to the pause's cap end, as the pause itself planned it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts import Channel, ClockName, ClockStatus, FlagName, Severity
from sla.clocks.sheet import ClockEntry, as_deadline, entry_of, upsert, with_plan
from sla.domain import (
    BusinessCalendar,
    Case,
    ClockSpec,
    SlaPolicy,
    build_deadline,
    extend_deadline,
    pause_cap_ends_at,
    shift_for_pause,
)
from sla.domain.deadlines import stamped, threshold_times
from sla.domain.timing import advance

PauseWindow = tuple[datetime, datetime] | None
"""A running pause: when it began and when its cap ends (paused clocks are planned to then)."""


def pause_window(case: Case, *, policy: SlaPolicy, calendar: BusinessCalendar) -> PauseWindow:
    """The case's running pause, if it waits for the customer."""
    cap_end = pause_cap_ends_at(case=case, policy=policy, calendar=calendar)
    return (case.paused_at, cap_end) if case.paused_at is not None and cap_end else None


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
    pause: PauseWindow = None,
) -> tuple[ClockEntry, ...]:
    """The sheet re-planned on `severity` and `keys` (see the module docstring). With `previous`
    (the severity unchanged, a new category or complexity mark), only the clocks whose amount
    changed with the keys re-plan. `pause` is the case's running pause, if any."""
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
        if entry.clock not in policy.rules:
            continue  # an overlay's clock: its amount does not depend on severity or keys
        if entry.pause_base is not None and pause is None:
            continue  # paused, but the pause's window is unknown here: keep its plan
        spec = spec_of(entry.clock, keys)
        if previous is not None and spec == spec_of(entry.clock, previous):
            continue  # not keyed on what changed: its plan (extensions included) stays
        if spec is None:
            changed.append(replace(entry, status=ClockStatus.CANCELLED, stopped_at=now))
            continue
        changed.append(
            replanned(
                entry,
                spec,
                severity=severity,
                flags=flag_list,
                policy=policy,
                calendar=calendar,
                pause=pause,
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
    sheet = upsert(sheet, changed)
    return upsert(sheet, capped(sheet, policy.caps_for(channel=channel, flags=flag_list), calendar))


def capped(
    sheet: Sequence[ClockEntry], caps: dict[ClockName, ClockName], calendar: BusinessCalendar
) -> list[ClockEntry]:
    """Running clocks due after the running clock that caps them, brought back to its due (the
    regulator's reply caps the resolution: the earlier of the two wins)."""
    by_clock = {e.clock: e for e in sheet if e.running and e.clock is not None}
    if ClockName.REGULATOR_REPLY in by_clock:  # a referral's reply caps the resolution too
        caps = {ClockName.RESOLUTION: ClockName.REGULATOR_REPLY} | caps
    out = []
    for clock, capping in caps.items():
        own, cap = by_clock.get(clock), by_clock.get(capping)
        if own is None or cap is None or cap.due_at >= own.due_at or own.pause_base is not None:
            continue
        times = threshold_times(
            started_at=own.started_at,
            due_at=cap.due_at,
            unit=own.unit,
            percents=[t.percent for t in own.thresholds],
            calendar=calendar,
        )
        plan = replace(as_deadline(own), due_at=cap.due_at, thresholds=times)
        out.append(with_plan(own, stamped(plan, calendar=calendar)))
    return out


def replanned(
    entry: ClockEntry,
    spec: ClockSpec,
    *,
    severity: Severity,
    flags: Sequence[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    pause: PauseWindow = None,
) -> ClockEntry:
    """`entry` planned again from its own start on `spec` and `calendar`: the pause credit it had
    and its approved extensions added back, thresholds already passed staying passed; a paused
    clock (with the running `pause`) planned to the pause's cap end again, its new pre-pause plan
    kept for the resume."""
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
    if entry.extended_hours:
        longer = extend_deadline(
            deadline=as_deadline(fresh), hours=entry.extended_hours, calendar=calendar
        )
        fresh = with_plan(fresh, longer)
    if entry.pause_base is not None and pause is not None:
        shifted = shift_for_pause(
            deadline=as_deadline(fresh), paused_at=pause[0], resumed_at=pause[1], calendar=calendar
        )
        fresh = replace(with_plan(fresh, shifted), pause_base=(fresh.due_at, fresh.thresholds))
    return replace(
        fresh,
        key=entry.key,
        passed=entry.passed,
        paused_seconds=entry.paused_seconds,
        extended_hours=entry.extended_hours,
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
    pause: PauseWindow = None,
) -> list[tuple[ClockEntry, ClockEntry]]:
    """(old, new) for each running clock whose due or calendar version changes when planned
    again on `calendar` (`complaints sla replan`). A paused clock stays paused, planned again to
    the running `pause`'s cap end; an overlay's clock (no pack spec) keeps its plan."""
    moves = []
    for entry in sheet:
        if not entry.running or entry.clock is None:
            continue
        if entry.pause_base is not None and pause is None:
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
            entry,
            spec,
            severity=severity,
            flags=flags,
            policy=policy,
            calendar=calendar,
            pause=pause,
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
