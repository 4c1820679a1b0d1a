"""Time-based upgrades across a pause: they count only time attributable to us (Vanke T12/T13:
"由于我方原因"), so while the case waits for the customer they move later like the other clocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sla.clocks.sheet import ClockEntry, Threshold


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
