"""Deadlines: when each clock is due, its warning and escalation instants, and who is told."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain.calendar import BusinessCalendar
from sla.domain.policy import BREACH, ClockSpec, Duration, SlaPolicy, Unit
from sla.domain.timing import advance, due_after, due_for, measure


@dataclass(frozen=True)
class Deadline:
    """A clock occurrence as the calendar arithmetic computes it (pure domain: no status, no fired
    thresholds, no lease). Not the clock record: `sla.clocks.sheet.ClockEntry` is, built from this
    by `entry_of` and turned back by `as_deadline` for pause shifts, extensions and repeats."""

    clock: ClockName
    occurrence: int
    started_at: datetime
    due_at: datetime
    thresholds: dict[int, datetime]
    audiences: dict[int, tuple[Audience, ...]]
    unit: Unit = "h"
    policy_version: str = ""
    calendar_version: str = ""
    capped_by: ClockName | None = None


def stamped(deadline: Deadline, *, calendar: BusinessCalendar) -> Deadline:
    """The deadline with the calendar version its computation used."""
    # The version names any fallback year the computation touched, so it stays visible per deadline.
    last = max([deadline.due_at, *deadline.thresholds.values()])
    version = calendar.version_between(deadline.started_at, last)
    return replace(deadline, calendar_version=version)


def threshold_times(
    *,
    started_at: datetime,
    due_at: datetime,
    unit: Unit,
    percents: Iterable[int],
    calendar: BusinessCalendar,
) -> dict[int, datetime]:
    """Absolute instants at which each percentage of the clock's duration is reached."""
    due_local = calendar.local(due_at)
    span = measure(start=started_at, end=due_at, unit=unit, calendar=calendar)
    out: dict[int, datetime] = {}
    for percent in sorted(set(percents) | {BREACH}):
        if percent == BREACH or span <= timedelta(0):
            out[percent] = due_local
        else:
            out[percent] = advance(
                start=started_at, amount=span * percent / 100, unit=unit, calendar=calendar
            )
    return out


def build_deadline(
    *,
    spec: ClockSpec,
    started_at: datetime,
    severity: Severity,
    flags: Iterable[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    occurrence: int = 1,
    due_at: datetime | None = None,
    capped_by: ClockName | None = None,
) -> Deadline:
    """A deadline for `spec` started at `started_at` (or with an imposed `due_at`)."""
    due = (
        calendar.local(due_at)
        if due_at
        else due_for(start=started_at, spec=spec, calendar=calendar)
    )
    thresholds = threshold_times(
        started_at=started_at,
        due_at=due,
        unit=spec.unit,
        percents=policy.thresholds,
        calendar=calendar,
    )
    audiences = policy.audiences(clock=spec.clock, severity=severity, flags=flags)
    if spec.target is not None and not due_at:
        target = _target_threshold(
            target=spec.target, spec=spec, started_at=started_at, due=due, calendar=calendar
        )
        if target is not None and target[0] not in thresholds:
            thresholds[target[0]] = target[1]
            audiences[target[0]] = (Audience.HANDLER,)  # the target missed: the handler is warned
    return Deadline(
        clock=spec.clock,
        occurrence=occurrence,
        started_at=calendar.local(started_at),
        due_at=due,
        thresholds=thresholds,
        audiences=audiences,
        unit=spec.unit,
        policy_version=policy.version,
        # As `stamped` names it, without building the deadline twice.
        calendar_version=calendar.version_between(started_at, max([due, *thresholds.values()])),
        capped_by=capped_by,
    )


def _target_threshold(
    *,
    target: Duration,
    spec: ClockSpec,
    started_at: datetime,
    due: datetime,
    calendar: BusinessCalendar,
) -> tuple[int, datetime] | None:
    """The clock's target (an earlier promise) as a percentage of its duration and its exact
    instant (re-plans scale it with the other thresholds); None when it is not before the due."""
    at = due_after(start=started_at, duration=target, calendar=calendar)
    if not started_at < at < due:
        return None
    span = measure(start=started_at, end=due, unit=spec.unit, calendar=calendar)
    used = measure(start=started_at, end=at, unit=spec.unit, calendar=calendar)
    percent = max(1, int(100 * used / span)) if span > timedelta(0) else 0
    return (percent, calendar.local(at)) if 0 < percent < BREACH else None


def target_at(deadline: Deadline, *, policy: SlaPolicy) -> datetime | None:
    """When the clock's target falls (the earliest threshold no escalation rule names)."""
    named = set(policy.thresholds)
    extra = [at for percent, at in deadline.thresholds.items() if percent not in named]
    return min(extra) if extra else None


def deadlines_at_receipt(
    *,
    received_at: datetime,
    severity: Severity,
    channel: Channel,
    referral_due_at: datetime | None,
    flags: Iterable[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    category: str | None = None,
    complex_case: bool = False,
) -> list[Deadline]:
    """Every clock started at receipt; overlays add clocks and cap others at the earlier due."""
    flag_list = list(flags)

    def make(
        spec: ClockSpec, due_at: datetime | None = None, capped_by: ClockName | None = None
    ) -> Deadline:
        return build_deadline(
            spec=spec,
            started_at=received_at,
            severity=severity,
            flags=flag_list,
            policy=policy,
            calendar=calendar,
            due_at=due_at,
            capped_by=capped_by,
        )

    specs = policy.clocks_for(
        severity=severity,
        channel=channel,
        flags=flag_list,
        category=category,
        complex_case=complex_case,
    )
    caps = policy.caps_for(channel=channel, flags=flag_list)
    deadlines = {spec.clock: make(spec) for spec in specs}
    if referral_due_at is not None:
        # The referring body's own deadline binds the reply to it, and so the resolution too.
        reply = deadlines.get(ClockName.REGULATOR_REPLY)
        if reply is None or referral_due_at < reply.due_at:
            unit: Unit = reply.unit if reply is not None else "h"
            deadlines[ClockName.REGULATOR_REPLY] = make(
                ClockSpec(ClockName.REGULATOR_REPLY, 0, unit), due_at=referral_due_at
            )
        caps.setdefault(ClockName.RESOLUTION, ClockName.REGULATOR_REPLY)
    for capped, capping in caps.items():
        own, cap = deadlines.get(capped), deadlines.get(capping)
        if own is not None and cap is not None and cap.due_at < own.due_at:
            deadlines[capped] = make(
                ClockSpec(own.clock, 0, own.unit), due_at=cap.due_at, capped_by=capping
            )
    return sorted(deadlines.values(), key=lambda d: (d.due_at, d.clock.value))
