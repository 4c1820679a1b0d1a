"""A case's entry in the scheduler's due index: its clock sheet's earliest pending threshold."""

from __future__ import annotations

from collections.abc import Sequence

from sla.clocks.sheet import ClockEntry, earliest
from sla.ports import DueEntry


def due_entry(complaint_id: str, sheet: Sequence[ClockEntry]) -> DueEntry | None:
    """The index entry for a sheet's earliest pending threshold."""
    first = earliest(sheet)
    if first is None:
        return None
    entry, threshold = first
    return entry.deadline_id(complaint_id), threshold.at, threshold.percent


def earlier_entry(
    complaint_id: str, before: Sequence[ClockEntry], now_sheet: Sequence[ClockEntry]
) -> list[DueEntry]:
    """The entry a change must index: only when it moves the sheet's earliest threshold EARLIER.

    A change that moves it later (a clock met, a pause, an extension) needs none: the entry
    already indexed still brings the scheduler to the case in time, and that visit indexes the
    sheet's new earliest threshold.
    """
    new, old = due_entry(complaint_id, now_sheet), due_entry(complaint_id, before)
    return [new] if new is not None and (old is None or new[1] < old[1]) else []
