"""Clocks that start after receipt (dispatch, resolution, reopening) and time-based upgrades."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contracts import Channel, ClockName, FlagName, Severity
from sla.domain.calendar import BusinessCalendar
from sla.domain.deadlines import Deadline, build_deadline
from sla.domain.policy import SlaPolicy, Start


def start_clocks(
    *,
    clocks: Iterable[ClockName],
    started_at: datetime,
    severity: Severity,
    channel: Channel,
    flags: Iterable[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    category: str | None = None,
    complex_case: bool = False,
) -> list[Deadline]:
    """Start the named clocks now (e.g. `Transition.starts`): first contact on dispatch, callback
    on resolution, resolution on reopening. Clocks the pack does not run at a level are skipped."""
    flag_list = list(flags)
    wanted = set(clocks)
    later: tuple[Start, ...] = ("dispatch", "resolution", "reopening", "handover")
    specs = [
        *policy.clocks_for(
            severity=severity,
            channel=channel,
            flags=flag_list,
            category=category,
            complex_case=complex_case,
        ),
        *(
            spec
            for moment in later
            for spec in policy.clocks_starting(
                moment, severity=severity, category=category, complex_case=complex_case
            )
        ),
    ]
    started: dict[ClockName, Deadline] = {}
    for spec in specs:
        if spec.clock in wanted and spec.clock not in started:
            started[spec.clock] = build_deadline(
                spec=spec,
                started_at=started_at,
                severity=severity,
                flags=flag_list,
                policy=policy,
                calendar=calendar,
            )
    return list(started.values())


def deadlines_starting(
    at: Start,
    *,
    started_at: datetime,
    severity: Severity,
    channel: Channel,
    flags: Iterable[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    category: str | None = None,
    complex_case: bool = False,
) -> list[Deadline]:
    """Every clock the pack starts at lifecycle moment `at` (dispatch, resolution, reopening)."""
    return start_clocks(
        clocks=[
            spec.clock
            for spec in policy.clocks_starting(
                at, severity=severity, category=category, complex_case=complex_case
            )
        ],
        started_at=started_at,
        severity=severity,
        channel=channel,
        flags=flags,
        policy=policy,
        calendar=calendar,
        category=category,
        complex_case=complex_case,
    )


def deadlines_on_resolution(
    *,
    resolved_at: datetime,
    severity: Severity,
    channel: Channel,
    flags: Iterable[FlagName],
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> list[Deadline]:
    """Clocks started when the case is resolved (the callback, 回訪)."""
    return start_clocks(
        clocks=[spec.clock for spec in policy.clocks_on_resolution(severity=severity)],
        started_at=resolved_at,
        severity=severity,
        channel=channel,
        flags=flags,
        policy=policy,
        calendar=calendar,
    )


def severity_upgrade_due(
    *, received_at: datetime, severity: Severity, policy: SlaPolicy
) -> list[tuple[datetime, Severity]]:
    """When an unresolved complaint moves up (7 d → P2, 30 d → P1), for levels above `severity`."""
    return [
        (received_at + upgrade.after, upgrade.to)
        for upgrade in policy.upgrades
        if upgrade.to.rank < severity.rank
    ]
