"""Operations' changes to an incident (close, merge, take members out) as `IncidentChanged`."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from classifier.domain.decision import HistoryWindows
from classifier.domain.incident import WIDE, IncidentKey
from classifier.domain.incident_news import SOURCE, IncidentState, opened_by
from contracts import IncidentChange, IncidentChanged, IncidentCounts, IncidentRecord


def incident_ref(incident_id: str) -> str:
    """A short handle for people and URLs (the id holds `/`, `|` and `+`)."""
    return "IN-" + hashlib.sha256(incident_id.encode()).hexdigest()[:12].upper()


@dataclass(frozen=True)
class Standing:
    """Whether an incident still takes members: open, or closed (possibly into another)."""

    closed_at: datetime | None = None
    resolution: str | None = None
    merged_into: str | None = None
    closed_by: str | None = None

    @property
    def open(self) -> bool:
        """Neither closed nor merged."""
        return self.closed_at is None


def changed(
    state: IncidentState,
    windows: HistoryWindows,
    change: IncidentChange,
    *,
    now: datetime,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
    merged_into: str | None = None,
    resolution: str | None = None,
) -> IncidentChanged:
    """The event of one change by operations, numbered after the last one downstream saw.

    Its id derives from the incident and the sequence, so a change published again after a
    crash (before the store remembered it) is the same event.
    """
    key = IncidentKey.parse(state.incident_id)
    members = sorted(state.members, key=lambda m: (m.received_at, m.complaint_id))
    sequence = state.sequence + 1
    closing = change in (IncidentChange.CLOSED, IncidentChange.MERGED)
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
        added_ids=list(added),
        removed_ids=list(removed),
        merged_into=merged_into,
        resolution=resolution,
        closed_at=now if closing else None,
    )
    return IncidentChanged.build(
        data=record,
        subject=state.incident_id,
        source=SOURCE,
        time=now,
        cause=f"{change.value}|{sequence}",
    )


@dataclass(frozen=True)
class IncidentRow:
    """One incident in operations' list."""

    incident_id: str
    category: str
    area: str
    first_seen: datetime
    last_seen: datetime
    count: int
    standing: Standing

    @property
    def ref(self) -> str:
        """The incident's short handle."""
        return incident_ref(self.incident_id)
