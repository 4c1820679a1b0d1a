"""A case's latest state as published on the compacted `complaints.cases.v1` (ADR 0011).

Built from the record as it reads after a compare-and-set (`ports.after`), or as loaded when a
redelivery or a republish finds the change already stored: always the case's current state, so
a republished snapshot can never put an older state back on top of a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from contracts import CaseSnapshot, CaseUpdated, ClockState, ClockStatus, Event
from contracts.values import SHOWN_CLOCK_STATUSES
from sla.clocks.sheet import ClockEntry
from sla.ports import CaseRecord

SOURCE = "/complaints/sla"


def _clock(entry: ClockEntry) -> ClockState | None:
    """A clock occurrence as downstream sees it (time-based upgrades are not clocks)."""
    if entry.clock is None or entry.status not in SHOWN_CLOCK_STATUSES:
        return None
    late = entry.stopped_at is not None and entry.stopped_at > entry.due_at
    return ClockState(
        clock=entry.clock,
        occurrence=entry.occurrence,
        status=entry.status,
        due_at=entry.due_at.astimezone(UTC),
        stopped_at=entry.stopped_at.astimezone(UTC) if entry.stopped_at else None,
        breached=entry.breached or (entry.status is ClockStatus.MET and late),
    )


def case_updated(record: CaseRecord, *, at: datetime) -> CaseUpdated:
    """The record's state as one keyed event; its id is the case's version (republish-safe)."""
    case, facts = record.case, record.facts
    data = CaseSnapshot(
        complaint_id=record.complaint_id,
        version=record.version,
        state=case.state,
        severity=case.severity,
        channel=facts.channel,
        category=facts.category,
        received_at=facts.received_at,
        acknowledged=case.acknowledged,
        paused=case.paused_at is not None,
        owner=case.owner,
        assignee=record.assignee,
        department=record.department,
        reopen_count=case.reopen_count,
        clocks=[c for e in record.clocks if (c := _clock(e)) is not None],
        as_of=at,
    )
    return CaseUpdated.build(
        data=data,
        subject=record.complaint_id,
        source=SOURCE,
        time=at,
        cause=f"v{record.version}",
    )


def with_snapshots(
    events: Sequence[Event], records: Iterable[CaseRecord], *, at: datetime
) -> list[Event]:
    """`events`, then one snapshot per case: a batch publishes each case's state once, the
    last record given for it (its state after the batch)."""
    latest = {r.complaint_id: r for r in records}
    return [*events, *(case_updated(r, at=at) for r in latest.values())]
