"""`complaints report`: a self-contained HTML page of the pipeline's figures, without Grafana.

Three steps, kept apart so each can be tested alone:

1. `gather` reads the four collections the page needs from MongoDB (read-only, projected, each
   drained in one reply by `servicekit.mongo.find_all`);
2. `summarise` turns those documents into `ReportData` (pure: the time is passed in);
3. `report_page.render` draws `ReportData` as one HTML document with inline CSS and the SVG
   charts of `report_charts` (drawn by `svg`): no script, no font, no image and no link leaves the
   file, so it opens anywhere, offline.

This module holds steps 1 and 2 and the command.

Read models read (`contracts.read_models`): intake's `COMPLAINT_RECEIPTS`, the classifier's
`CLASSIFICATIONS`, the SLA's `CASE_SHEETS` (state and clock sheet). Nothing personal is read.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.sla_clocks import flatten
from contracts import CaseState, ClockName, ClockStatus, FlagName, Kind, Severity
from contracts.read_models import CASE_SHEETS, CLASSIFICATIONS, COMPLAINT_RECEIPTS
from servicekit.read_models import documents

Document = dict[str, Any]

REPORT_ZONE = "Asia/Shanghai"
"""Days are counted in the business calendar's zone (DOMAIN.md §5)."""

BREACHED_OUTCOMES = frozenset({"late", "overdue"})
FINISHED_STATES = frozenset(
    {
        CaseState.RESOLVED,
        CaseState.CALLBACK_DONE,
        CaseState.CLOSED,
        CaseState.REJECTED,
        CaseState.DUPLICATE,
        CaseState.WITHDRAWN,
        CaseState.ROUTED,
        CaseState.ENQUIRY,
    }
)
"""Case states that need no more handling: every other state counts as open."""

TOP_CHANNELS = 7
TOP_CATEGORIES = 10
WEEKLY_AFTER_DAYS = 92
"""Longer spans are drawn per week, so columns stay readable."""


# ---------------------------------------------------------------- gathering


@dataclass(frozen=True)
class Sources:
    """The documents the report is computed from, one list per collection."""

    complaints: Sequence[Document] = ()
    classifications: Sequence[Document] = ()
    cases: Sequence[Document] = ()
    deadlines: Sequence[Document] = ()


async def gather(db: AsyncDatabase[Document]) -> Sources:
    """Read the three read models (each in a single reply)."""
    complaints, classifications, cases = await asyncio.gather(
        documents(db, COMPLAINT_RECEIPTS),
        documents(db, CLASSIFICATIONS),
        documents(db, CASE_SHEETS),
    )
    return Sources(complaints, classifications, cases, flatten(cases))


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class ClockFigures:
    """One SLA clock: how many of its deadlines were met on time, met late or are overdue."""

    clock: str
    on_time: int = 0
    met_late: int = 0
    overdue: int = 0
    open_in_time: int = 0

    @property
    def breached(self) -> int:
        """Deadlines that passed their due time (met late or still open)."""
        return self.met_late + self.overdue

    @property
    def judged(self) -> int:
        """Deadlines whose timeliness is known: met on time, or breached."""
        return self.on_time + self.breached

    @property
    def timely_rate(self) -> float | None:
        """Timely-handling rate (處理及時率): on time among the judged; None if none judged."""
        return self.on_time / self.judged if self.judged else None


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, computed from `Sources` as of `generated_at`."""

    generated_at: datetime
    database: str
    timezone: str
    received: int
    duplicates: int
    kinds: Mapping[str, int]
    complaints: int
    buckets: Sequence[str]
    bucket_unit: str
    volumes: Mapping[str, Sequence[int]]
    clocks: Sequence[ClockFigures]
    categories: Sequence[tuple[str, int]]
    severities: Mapping[str, int]
    repeat: int
    over_level: int
    open_cases: int
    cases: int

    @property
    def timely_rate(self) -> float | None:
        """Timely-handling rate over every clock."""
        judged = sum(c.judged for c in self.clocks)
        return sum(c.on_time for c in self.clocks) / judged if judged else None

    @property
    def breaches(self) -> int:
        """Breached deadlines over every clock."""
        return sum(c.breached for c in self.clocks)


def as_utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (naive values are UTC); anything else is None."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _buckets(days: Iterable[date]) -> tuple[list[date], str]:
    """Every day (or Monday) from the first to the last, and the unit used."""
    known = sorted(set(days))
    if not known:
        return [], "day"
    first, last = known[0], known[-1]
    step, unit = timedelta(days=1), "day"
    if (last - first).days > WEEKLY_AFTER_DAYS:
        first, last = first - timedelta(days=first.weekday()), last - timedelta(last.weekday())
        step, unit = timedelta(days=7), "week"
    return [first + step * i for i in range((last - first) // step + 1)], unit


def volumes(
    complaints: Sequence[Document], zone: ZoneInfo
) -> tuple[list[str], str, dict[str, list[int]]]:
    """Received messages per day (or week) and channel; the smaller channels as `other`."""
    dated = [
        (moment.astimezone(zone).date(), str(doc.get("channel") or "?"))
        for doc in complaints
        if (moment := as_utc(doc.get("received_at"))) is not None
    ]
    buckets, unit = _buckets(day for day, _ in dated)
    ranked = Counter(channel for _, channel in dated).most_common()
    shown = [name for name, _ in ranked[:TOP_CHANNELS]]
    if len(ranked) > TOP_CHANNELS:
        shown.append("other")
    index = {bucket: i for i, bucket in enumerate(buckets)}
    series = {name: [0] * len(buckets) for name in shown}
    for day, channel in dated:
        bucket = day if unit == "day" else day - timedelta(days=day.weekday())
        series[channel if channel in series else "other"][index[bucket]] += 1
    return [b.isoformat() for b in buckets], unit, series


def clock_figures(deadlines: Sequence[Document], now: datetime) -> list[ClockFigures]:
    """Per clock: met on time, met late, overdue (open past due) and open within time."""
    tally: dict[str, Counter[str]] = {}
    for doc in deadlines:
        clock = doc.get("clock")
        if not clock:
            continue  # severity upgrades have no goal to meet
        status, outcome = doc.get("status"), doc.get("outcome")
        fired = doc.get("fired") or ()
        due = as_utc(doc.get("due_at"))
        if status == ClockStatus.MET:
            verdict = "met_late" if outcome in BREACHED_OUTCOMES or 100 in fired else "on_time"
        elif status == ClockStatus.RUNNING:
            past_due = 100 in fired or outcome == "overdue" or (due is not None and due <= now)
            verdict = "overdue" if past_due else "open_in_time"
        else:
            continue  # cancelled: the clock no longer applies
        tally.setdefault(str(clock), Counter())[verdict] += 1
    order = {clock.value: i for i, clock in enumerate(ClockName)}
    return [
        ClockFigures(clock=clock, **counts)
        for clock, counts in sorted(tally.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]


def summarise(
    sources: Sources, *, now: datetime, database: str = "", timezone: str = REPORT_ZONE
) -> ReportData:
    """The report's figures from the collections' documents, as of `now`."""
    zone = ZoneInfo(timezone)
    buckets, unit, series = volumes(sources.complaints, zone)
    kinds = Counter(str(doc.get("kind") or "?") for doc in sources.classifications)
    complaints = [
        doc
        for doc in sources.classifications
        if doc.get("kind") == Kind.COMPLAINT.value and not doc.get("duplicate_of")
    ]
    flags = Counter(flag for doc in complaints for flag in set(doc.get("flags") or ()))
    levels = Counter(str(doc.get("severity") or "?") for doc in complaints)
    severities = {level.value: levels.pop(level.value, 0) for level in Severity} | dict(levels)
    open_cases = sum(
        1 for doc in sources.cases if doc.get("state") not in {s.value for s in FINISHED_STATES}
    )
    return ReportData(
        generated_at=now,
        database=database,
        timezone=timezone,
        received=len(sources.complaints),
        duplicates=sum(1 for doc in sources.complaints if doc.get("duplicate_of")),
        kinds=dict(kinds.most_common()),
        complaints=len(complaints),
        buckets=buckets,
        bucket_unit=unit,
        volumes=series,
        clocks=clock_figures(sources.deadlines, now),
        categories=Counter(str(doc.get("category") or "?") for doc in complaints).most_common(
            TOP_CATEGORIES
        ),
        severities=severities,
        repeat=flags[FlagName.REPEAT.value],
        over_level=flags[FlagName.OVER_LEVEL.value],
        open_cases=open_cases,
        cases=len(sources.cases),
    )
