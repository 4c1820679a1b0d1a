"""Operations' changes to an incident (close, merge, take members out) as `IncidentChanged`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from classifier.domain.decision import HistoryWindows
from classifier.domain.incident_news import IncidentState, incident_event
from contracts import IncidentChange, IncidentChanged


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
    """The event of one change by operations (see `incident_event`)."""
    return incident_event(
        state,
        windows,
        change,
        now=now,
        added_ids=added,
        removed_ids=removed,
        merged_into=merged_into,
        resolution=resolution,
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
