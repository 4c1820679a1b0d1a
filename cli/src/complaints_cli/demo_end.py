"""How `complaints demo` ends: the HTML report written, and a short table saying how it went."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from complaints_cli.report_cmd import ReportOptions, build
from complaints_cli.staff import StaffDemo
from complaints_cli.staff_outcome import brief
from complaints_cli.stages import StageCounts
from complaints_cli.summary import render_brief


@dataclass(frozen=True)
class Ending:
    """What the closing table needs besides the staff's own outcome."""

    counts: StageCounts
    real_s: float
    report: Path
    report_error: str = ""


def write_report(out: Path, *, database: str, mongo_url: str) -> str:
    """Write the demo's HTML report; an error text instead of raising (the demo still ends)."""
    from pymongo.errors import PyMongoError

    options = ReportOptions(out=out, database=database, mongo_url=mongo_url)
    try:
        page = asyncio.run(build(options, now=datetime.now(UTC)))
    except PyMongoError as exc:
        return f"not written: cannot read MongoDB ({type(exc).__name__})"
    out.write_text(page, encoding="utf-8")
    return ""


def closing_table(ending: Ending, staff: StaffDemo | None) -> str:
    """The demo's last lines: time taken, complaints, staff outcome, where the report is."""
    c = ending.counts
    rows = [("took", f"{ending.real_s:.0f} s")]
    if staff is not None:
        start, end = staff.calendar.local(staff.opening), staff.calendar.local(staff.clock.now())
        rows.append(("business time", f"{start:%a %d %b %H:%M} → {end:%a %d %b %H:%M}"))
    rows.append(
        (
            "complaints",
            f"{c.sent} sent, {c.classified} classified, {c.acknowledged} acknowledged, "
            f"{c.lost} lost, {c.duplicated} told twice",
        )
    )
    if staff is not None:
        rows += brief(staff.outcome)
        rows.append(("staff told to wait (HTTP 503)", str(staff.busy_answers)))
        rows.append(("business time held for the system", staff.keeper.note()))
    rows.append(("report", ending.report_error or str(ending.report.resolve())))
    return render_brief(rows)
