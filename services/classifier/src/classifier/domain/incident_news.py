"""What downstream is told about an incident: an `IncidentChanged` per batch that grew it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from classifier.domain.decision import HistoryWindows
from classifier.domain.incident import WIDE, IncidentKey
from contracts import (
    Channel,
    CustomerTier,
    IncidentChange,
    IncidentChanged,
    IncidentCounts,
    IncidentRecord,
)

SOURCE = "/complaints/classifier"


@dataclass(frozen=True)
class Member:
    """One member complaint as the incident counts it (no personal data)."""

    complaint_id: str
    received_at: datetime
    channel: Channel
    tier: CustomerTier


@dataclass(frozen=True)
class IncidentState:
    """A stored incident: its members and what downstream has been told so far."""

    incident_id: str
    members: tuple[Member, ...]
    announced: frozenset[str] = frozenset()
    sequence: int = 0
    opened_by: str | None = None
    opened_with: int | None = None
    closed: bool = False
    """Closed or merged by operations: nothing more is announced."""

    @property
    def unannounced(self) -> list[Member]:
        """Members downstream has not heard of, oldest first."""
        return [m for m in self.members if m.complaint_id not in self.announced]


def news(state: IncidentState, windows: HistoryWindows, *, now: datetime) -> IncidentChanged | None:
    """`opened` for an incident nobody was told of, `grown` when members joined; else None."""
    added = state.unannounced
    if not added or not state.members or state.closed:
        return None
    change = IncidentChange.GROWN if state.announced else IncidentChange.OPENED
    added_ids = [m.complaint_id for m in sorted(added, key=lambda m: m.received_at)]
    return incident_event(state, windows, change, now=now, added_ids=added_ids)


def incident_event(
    state: IncidentState,
    windows: HistoryWindows,
    change: IncidentChange,
    *,
    now: datetime,
    added_ids: Sequence[str] = (),
    removed_ids: Sequence[str] = (),
    merged_into: str | None = None,
    resolution: str | None = None,
) -> IncidentChanged:
    """The `IncidentChanged` of one change, numbered after the last one downstream saw; every
    announcement (opened, grown) and every change by operations is built here.

    Its id derives from the incident and the sequence, so an event published again after a
    crash (before the store remembered it) is the same event.
    """
    key = IncidentKey.parse(state.incident_id)
    members = sorted(state.members, key=lambda m: (m.received_at, m.complaint_id))
    sequence = state.sequence + 1
    total = len(members)
    record = IncidentRecord(
        incident_id=state.incident_id,
        change=change,
        sequence=sequence,
        category=key.category,
        area=None if key.area == WIDE else key.area,
        issue_key=key.issue,
        opened_by=opened_by(state, total, windows),
        opened_with=state.opened_with or max(total, 1),
        first_seen=members[0].received_at if members else now,
        last_seen=members[-1].received_at if members else now,
        counts=IncidentCounts(
            total=total,
            important=sum(1 for m in members if m.tier in windows.important_tiers),
            by_channel=dict(Counter(m.channel for m in members)),
            by_tier=dict(Counter(m.tier for m in members)),
        ),
        member_ids=[m.complaint_id for m in members],
        added_ids=list(added_ids),
        removed_ids=list(removed_ids),
        merged_into=merged_into,
        resolution=resolution,
        closed_at=now if change in (IncidentChange.CLOSED, IncidentChange.MERGED) else None,
    )
    return IncidentChanged.build(
        data=record,
        subject=state.incident_id,
        source=SOURCE,
        time=now,
        cause=f"{change.value}|{sequence}",
    )


def opened_by(state: IncidentState, total: int, windows: HistoryWindows) -> str:
    """Which threshold opened the incident: kept once told, else read from the counts."""
    if state.opened_by in ("ordinary", "important"):
        return state.opened_by
    return "ordinary" if total >= windows.mass_incident_min_complaints else "important"
