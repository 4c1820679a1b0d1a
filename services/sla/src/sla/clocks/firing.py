"""Firing thresholds on a clock sheet: what one scheduler visit to a case changes and announces."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from contracts import ClockStatus, Severity, SlaChange, SlaChanged, SlaEventKind
from sla.clocks.sheet import (
    ClockEntry,
    Lease,
    Threshold,
    as_deadline,
    compact,
    entry_of,
    upsert,
)
from sla.domain import BusinessCalendar, SlaPolicy, next_occurrence

SOURCE = "/complaints/sla"


def event_kind(entry: ClockEntry, threshold: Threshold) -> SlaEventKind:
    """Warning before the due time, breach at it, escalation after it, or a severity upgrade."""
    if entry.upgrade_to is not None:
        return SlaEventKind.UPGRADED
    if threshold.percent < 100:
        return SlaEventKind.WARNED
    return SlaEventKind.BREACHED if threshold.percent == 100 else SlaEventKind.ESCALATED


def fired_event(
    complaint_id: str, entry: ClockEntry, threshold: Threshold, *, now: datetime
) -> SlaChanged:
    """The event announcing that `threshold` of `entry` was reached (id from clock + percent)."""
    target = entry.upgrade_to
    data = SlaChange(
        complaint_id=complaint_id,
        event=event_kind(entry, threshold),
        severity=Severity(target) if target is not None else Severity(entry.severity),
        previous_severity=Severity(entry.severity) if target is not None else None,
        clock=entry.clock,
        occurrence=entry.occurrence,
        threshold=threshold.percent,
        due_at=entry.due_at,
        audiences=list(threshold.audiences),
        policy_version=entry.policy_version,
        calendar_version=entry.calendar_version,
        fired_at=now,
        provisional=entry.provisional,
    )
    return SlaChanged.build(
        data=data,
        subject=complaint_id,
        source=SOURCE,
        time=now,
        cause=f"{entry.deadline_id(complaint_id)}@{threshold.percent}",
    )


@dataclass(frozen=True)
class Firing:
    """What a visit fires: the new sheet, its events (in order), and an upgraded severity."""

    clocks: tuple[ClockEntry, ...]
    events: tuple[SlaChanged, ...]
    fired: tuple[tuple[ClockEntry, Threshold], ...]
    severity: Severity | None = None


def next_of(
    entry: ClockEntry, *, policy: SlaPolicy, calendar: BusinessCalendar, from_time: datetime | None
) -> ClockEntry | None:
    """The next occurrence of a repeating clock (from its due, or from when it was met)."""
    if entry.clock is None:
        return None
    spec = policy.spec(clock=entry.clock, severity=Severity(entry.severity))
    if spec is None:
        return None
    following = next_occurrence(
        deadline=as_deadline(entry), spec=spec, calendar=calendar, from_time=from_time
    )
    return entry_of(following, entry.severity, repeat=True, round_=entry.round)


def fire_due(
    complaint_id: str,
    clocks: tuple[ClockEntry, ...],
    *,
    severity: Severity,
    settled: bool,
    now: datetime,
    lease: Lease,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> Firing:
    """Fire every threshold of the sheet due by `now`, oldest first.

    A breached repeating clock starts its next occurrence (unless the case is past resolution)
    and closes as breached once its last threshold fired; closed occurrences are folded
    (`compact`), so the sheet stays small however long the case runs. A fired upgrade raises the
    case's severity (never lowers it).
    """
    sheet = clocks
    events: list[SlaChanged] = []
    fired: list[tuple[ClockEntry, Threshold]] = []
    raised: Severity | None = None
    while True:
        due = [(e, t) for e in sheet if (t := e.next_threshold()) is not None and t.at <= now]
        if not due:
            break
        entry, threshold = min(due, key=lambda p: (p[1].at, p[0].key, p[1].percent))
        events.append(fired_event(complaint_id, entry, threshold, now=now))
        fired.append((entry, threshold))
        after = replace(entry, passed=(*entry.passed, threshold.percent), lease=lease)
        changed = [after]
        if threshold.percent == 100 and entry.upgrade_to is not None:
            after = replace(after, status=ClockStatus.DONE, stopped_at=now)
            changed = [after]
            target = Severity(entry.upgrade_to)
            current = raised or severity
            if target.rank < current.rank:
                raised = target
        elif threshold.percent == 100 and entry.repeat and not settled:
            following = next_of(entry, policy=policy, calendar=calendar, from_time=None)
            if following is not None and following.key not in {e.key for e in sheet}:
                changed.append(following)
        sheet = upsert(sheet, changed)
    return Firing(
        clocks=compact(sheet, at=now), events=tuple(events), fired=tuple(fired), severity=raised
    )
