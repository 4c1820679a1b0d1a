"""The SLA's clocks as the CLI reads them: one flat row per clock entry of the `cases` sheets.

The SLA service keeps every clock inside its case document (`cases.clocks`, ADR 0006). The
report, the run summaries and the staff demo count clocks one row each; this
flattens the sheets into such rows (complaint_id, clock, occurrence, status, due_at, started_at,
stopped_at, fired, outcome). The sheets are the SLA's declared read model `CASE_SHEETS`; nothing
personal is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from contracts import ClockStatus
from contracts.read_models import CASE_SHEETS, sheet_entries
from servicekit.read_models import documents

Row = dict[str, Any]


def clock_rows(case: Mapping[str, Any]) -> list[Row]:
    """One row per clock of one case document (time-based upgrades left out)."""
    rows = []
    for entry in sheet_entries(case.get("clocks")):
        if not entry.clock:
            continue
        fired = list(entry.passed)
        status, stopped, due = entry.status, entry.stopped_at, entry.due_at
        if status == ClockStatus.MET and stopped is not None and due is not None:
            outcome = "on_time" if stopped <= due else "late"
        else:
            outcome = "overdue" if status == ClockStatus.RUNNING and 100 in fired else ""
        rows.append(
            {
                "_id": f"{case['_id']}:{entry.key}",
                "complaint_id": case["_id"],
                "clock": entry.clock,
                "severity": entry.severity,
                "occurrence": entry.occurrence,
                "status": status.value,
                "due_at": due,
                "started_at": entry.started_at,
                "stopped_at": stopped,
                "fired": fired,
                "outcome": outcome,
                "paused": entry.pause_base is not None,
            }
        )
    return rows


def flatten(cases: Iterable[Mapping[str, Any]]) -> list[Row]:
    """The rows of many case documents."""
    return [row for case in cases for row in clock_rows(case)]


async def clock_documents(
    db: AsyncDatabase[Any], query: Mapping[str, Any] | None = None
) -> list[Row]:
    """The clock rows of the cases matching `query` (all cases by default), in one read."""
    return flatten(await documents(db, CASE_SHEETS, query))


def open_by_severity(rows: Iterable[Row], now: Any) -> tuple[list[Row], list[Row]]:
    """`{"_id": severity, "n": count}` rows of running clocks, all and past due at `now`."""
    opened: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    for row in rows:
        if row["status"] == ClockStatus.RUNNING and row["clock"]:
            opened[str(row["severity"])] += 1
            if row["due_at"] is not None and row["due_at"] <= now:
                overdue[str(row["severity"])] += 1
    return (
        [{"_id": level, "n": n} for level, n in opened.items()],
        [{"_id": level, "n": n} for level, n in overdue.items()],
    )
