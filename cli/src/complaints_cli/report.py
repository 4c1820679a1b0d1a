"""`complaints report`: a self-contained HTML page of the pipeline's figures, without Grafana.

Three steps, kept apart so each can be tested alone:

1. `gather` reads the four collections the page needs from MongoDB (read-only, projected, each
   drained in one reply by `servicekit.mongo.find_all`);
2. `summarise` turns those documents into `ReportData` (pure: the time is passed in);
3. `render` draws `ReportData` as one HTML document with inline CSS and SVG charts drawn here: no
   script, no font, no image and no link leaves the file, so it opens anywhere, offline.

Collections and fields read: intake's `complaints` (channel, received_at, duplicate_of); the
classifier's `classifications` (kind, category, severity, flags, duplicate_of); the SLA service's
`cases` (state, and the clock sheets: clock, status, due_at, fired). Nothing personal is read.
"""

from __future__ import annotations

import asyncio
import html
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.sla_clocks import flatten
from contracts import CaseState, ClockName, FlagName, Kind, Severity
from servicekit.mongo import find_all

Document = dict[str, Any]

REPORT_ZONE = "Asia/Shanghai"
"""Days are counted in the business calendar's zone (DOMAIN.md §5)."""

FIELDS: dict[str, dict[str, int]] = {
    "complaints": dict.fromkeys(["channel", "received_at", "duplicate_of"], 1),
    "classifications": dict.fromkeys(["kind", "category", "severity", "flags", "duplicate_of"], 1),
    "cases": dict.fromkeys(["state", "clocks"], 1),
}
"""Collection → the fields the report reads (projection)."""

RUNNING = frozenset({"running", "pending", "firing"})
"""Statuses of a clock still open (`running`; `pending` / `firing` in stores before ADR 0006)."""
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
    """Read the projected fields of the four collections (each in a single reply)."""
    names = list(FIELDS)
    found = await asyncio.gather(*(find_all(db[name], {}, FIELDS[name]) for name in names))
    sources = Sources(**dict(zip(names, found, strict=True)))
    return replace(sources, deadlines=flatten(sources.cases))  # the clocks of the case sheets


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
        if status == "met":
            verdict = "met_late" if outcome in BREACHED_OUTCOMES or 100 in fired else "on_time"
        elif status in RUNNING:
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


# ---------------------------------------------------------------- drawing

PALETTE = (
    "#3867d6",
    "#20bf6b",
    "#f7b731",
    "#eb3b5a",
    "#8854d0",
    "#0fb9b1",
    "#fa8231",
    "#778ca3",
)
SEVERITY_COLOURS = {"P1": "#c0392b", "P2": "#e67e22", "P3": "#f1c40f", "P4": "#7f8c8d"}
GOOD, BAD, LATE = "#20bf6b", "#eb3b5a", "#fa8231"
WIDTH = 760
LABEL_WIDTH = 240
LABEL_CHARS = 36
MAX_COLUMN = 48.0
ROW = 26


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    value: float
    colour: str
    name: str


@dataclass(frozen=True)
class Row:
    """One horizontal bar: its label, its parts and the text written after it."""

    label: str
    segments: Sequence[Segment]
    note: str


@dataclass(frozen=True)
class Chart:
    """A titled figure: `key` names it for tests and anchors."""

    key: str
    title: str
    svg: str
    caption: str = ""
    legend: Sequence[tuple[str, str]] = field(default_factory=tuple)


def esc(text: object) -> str:
    """Text safe inside HTML and SVG (attributes included)."""
    return html.escape(str(text), quote=True)


def _fit(label: str) -> str:
    """A label short enough for the label column (the tooltip keeps the whole name)."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def pct(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or an em dash when unknown."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _svg(width: int, height: int, label: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, *, colour: str, tip: str) -> str:
    return (
        f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'fill="{colour}"><title>{esc(tip)}</title></rect>'
    )


def _text(x: float, y: float, text: str, *, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{esc(text)}</text>'


def hbar_svg(label: str, rows: Sequence[Row], *, scale: float | None = None) -> str:
    """Horizontal bars, one per row, parts stacked left to right; `scale` is the full width."""
    if not rows:
        return _svg(WIDTH, 40, label, [_text(10, 24, "no data yet", cls="empty")])
    top = scale or max((sum(s.value for s in r.segments) for r in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 150
    body: list[str] = []
    for i, row in enumerate(rows):
        y = 6 + i * ROW
        body.append(_text(LABEL_WIDTH - 8, y + 15, _fit(row.label), cls="label", anchor="end"))
        body.append(
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y + 2}" width="{span}" height="16"/>'
        )
        x = float(LABEL_WIDTH)
        for seg in row.segments:
            w = span * seg.value / top
            if w > 0:
                body.append(
                    _rect(x, y + 2, w, 16, colour=seg.colour, tip=f"{row.label} · {seg.name}")
                )
                x += w
        body.append(_text(LABEL_WIDTH + span + 8, y + 15, row.note, cls="value"))
    return _svg(WIDTH, 12 + len(rows) * ROW, label, body)


def _ticks(top: int) -> list[int]:
    """Four gridline values, a round step apart (1, 2 or 5 × 10ⁿ), the last at least `top`."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 4 >= top:
                return [step * i for i in range(1, 5)]
        magnitude *= 10


def column_svg(label: str, buckets: Sequence[str], series: Mapping[str, Sequence[int]]) -> str:
    """Stacked columns per bucket (day or week), one colour per series, with a y axis."""
    if not buckets:
        return _svg(WIDTH, 40, label, [_text(10, 24, "no data yet", cls="empty")])
    left, top_pad, height, bottom = 48, 10, 200, 40
    totals = [sum(values[i] for values in series.values()) for i in range(len(buckets))]
    ticks = _ticks(max(totals) or 1)
    y_max = ticks[-1]
    span = WIDTH - left - 10
    slot = span / len(buckets)
    bar = min(MAX_COLUMN, max(1.0, slot * 0.8))
    body: list[str] = []
    for value in ticks:
        y = top_pad + height - height * value / y_max
        body.append(f'<line class="grid" x1="{left}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(_text(left - 6, y + 4, f"{value:,}", cls="axis", anchor="end"))
    body.append(_text(left - 6, top_pad + height + 4, "0", cls="axis", anchor="end"))
    every = max(1, round(len(buckets) / 10))
    for i, bucket in enumerate(buckets):
        x = left + i * slot + (slot - bar) / 2
        base = float(top_pad + height)
        for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
            h = height * values[i] / y_max
            if h > 0:
                base -= h
                body.append(
                    _rect(x, base, bar, h, colour=colour, tip=f"{bucket} · {name}: {values[i]:,}")
                )
        if i % every == 0:
            body.append(
                _text(x + bar / 2, top_pad + height + 16, bucket, cls="axis", anchor="middle")
            )
    axis_y = top_pad + height
    body.append(
        f'<line class="axis-line" x1="{left}" x2="{WIDTH - 10}" y1="{axis_y}" y2="{axis_y}"/>'
    )
    return _svg(WIDTH, top_pad + height + bottom, label, body)


def volume_chart(data: ReportData) -> Chart:
    """Received messages per day (or week) and channel."""
    legend = [(name, colour) for colour, name in zip(PALETTE, data.volumes, strict=False)]
    return Chart(
        key="volumes",
        title=f"Received per {data.bucket_unit} and channel",
        svg=column_svg("received per channel", data.buckets, data.volumes),
        caption=f"{data.received:,} messages received, {data.duplicates:,} of them duplicates;"
        f" days in {data.timezone}.",
        legend=legend,
    )


def timely_chart(data: ReportData) -> Chart:
    """Timely-handling rate per clock, on a 0–100 % scale."""
    rows = [
        Row(
            c.clock,
            [Segment(100 * (c.timely_rate or 0), GOOD, "on time")],
            f"{pct(c.timely_rate)}  ({c.on_time:,}/{c.judged:,})",
        )
        for c in data.clocks
        if c.judged
    ]
    return Chart(
        key="timely",
        title="Timely-handling rate per clock",
        svg=hbar_svg("timely-handling rate per clock", rows, scale=100),
        caption="Met on time among the deadlines met or breached; a clock none of whose"
        " deadlines was met or breached yet is left out. Over every clock:"
        f" {pct(data.timely_rate)}.",
    )


def breach_chart(data: ReportData) -> Chart:
    """Breaches per clock: met late and still overdue."""
    rows = [
        Row(
            c.clock,
            [Segment(c.met_late, LATE, "met late"), Segment(c.overdue, BAD, "still overdue")],
            f"{c.breached:,}  ({c.met_late:,} late, {c.overdue:,} open)",
        )
        for c in data.clocks
    ]
    return Chart(
        key="breaches",
        title="Breaches per clock",
        svg=hbar_svg("breaches per clock", rows),
        caption=f"{data.breaches:,} deadlines passed their due time.",
        legend=[("met late", LATE), ("still overdue", BAD)],
    )


def _share(count: int, whole: int) -> str:
    return f"{count:,}  ({pct(count / whole if whole else None)})"


def category_chart(data: ReportData) -> Chart:
    """The most frequent categories of complaints."""
    rows = [
        Row(name, [Segment(n, PALETTE[0], "complaints")], _share(n, data.complaints))
        for name, n in data.categories
    ]
    return Chart(
        key="categories",
        title=f"Top {TOP_CATEGORIES} categories",
        svg=hbar_svg("top categories", rows),
        caption=f"Among {data.complaints:,} complaints (enquiries and duplicates left out).",
    )


def rate_chart(data: ReportData) -> Chart:
    """Repeat rate (重複投訴率) and over-level rate (越級投訴率) on a 0–100 % scale."""
    whole = data.complaints
    rows = [
        Row(
            name,
            [Segment(100 * count / whole if whole else 0, colour, name)],
            _share(count, whole),
        )
        for name, count, colour in (
            ("repeat", data.repeat, PALETTE[4]),
            ("over-level", data.over_level, PALETTE[3]),
        )
        if whole
    ]
    return Chart(
        key="rates",
        title="Repeat and over-level rates",
        svg=hbar_svg("repeat and over-level rates", rows, scale=100),
        caption="Share of complaints flagged repeat (same complainant and category within the"
        " pack's window) and over-level (media, regulator or superior channel, or said so).",
    )


def severity_chart(data: ReportData) -> Chart:
    """How complaints spread over P1–P4 at classification."""
    rows = [
        Row(
            level,
            [Segment(n, SEVERITY_COLOURS.get(level, PALETTE[7]), level)],
            _share(n, data.complaints),
        )
        for level, n in data.severities.items()
        if data.complaints
    ]
    return Chart(
        key="severity",
        title="Severity mix",
        svg=hbar_svg("severity mix", rows, scale=data.complaints),
        caption="Severity decided at classification (later upgrades are in the SLA events).",
    )


def tiles(data: ReportData) -> list[tuple[str, str]]:
    """The headline figures: label and value."""
    return [
        ("received", f"{data.received:,}"),
        ("complaints", f"{data.complaints:,}"),
        ("enquiries", f"{data.kinds.get(Kind.ENQUIRY.value, 0):,}"),
        ("duplicates", f"{data.duplicates:,}"),
        ("open cases", f"{data.open_cases:,} of {data.cases:,}"),
        ("timely-handling rate", pct(data.timely_rate)),
        ("breaches", f"{data.breaches:,}"),
    ]


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:24px;
color:#1e272e;background:#f5f6fa}
h1{font-size:22px;margin:0 0 4px}
.meta{color:#57606f;margin:0 0 16px;font-size:13px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}
.tile{background:#fff;border-radius:6px;padding:10px 14px;min-width:110px;
box-shadow:0 1px 2px #0002}
.tile b{display:block;font-size:20px}
.tile span{font-size:12px;color:#57606f}
figure{background:#fff;border-radius:6px;padding:12px 16px;margin:0 0 16px;
box-shadow:0 1px 2px #0002;max-width:800px}
figcaption{font-size:12px;color:#57606f;margin-top:6px}
h2{font-size:16px;margin:0 0 8px}
svg text{font-size:12px;fill:#1e272e}
svg .axis{font-size:10px;fill:#57606f}
svg .value{font-variant-numeric:tabular-nums}
svg .empty{fill:#a4b0be}
svg .track{fill:#f1f2f6}
svg .grid{stroke:#dfe4ea;stroke-width:1}
svg .axis-line{stroke:#a4b0be;stroke-width:1}
.legend{font-size:12px;margin:4px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;
gap:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
"""


def _figure(chart: Chart) -> str:
    legend = ""
    if chart.legend:
        items = "".join(
            f'<li><i style="background:{colour}"></i>{esc(name)}</li>'
            for name, colour in chart.legend
        )
        legend = f'<ul class="legend">{items}</ul>'
    return (
        f'<figure id="{chart.key}" data-chart="{chart.key}"><h2>{esc(chart.title)}</h2>'
        f"{chart.svg}{legend}<figcaption>{esc(chart.caption)}</figcaption></figure>"
    )


def charts(data: ReportData) -> list[Chart]:
    """Every chart of the page, in reading order."""
    return [
        volume_chart(data),
        timely_chart(data),
        breach_chart(data),
        category_chart(data),
        rate_chart(data),
        severity_chart(data),
    ]


def render(data: ReportData) -> str:
    """The whole page: one HTML document with inline CSS and SVG, nothing fetched."""
    zone = ZoneInfo(data.timezone)
    stamp = data.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    source = f" · database {data.database}" if data.database else ""
    tile_html = "".join(
        f'<div class="tile"><b>{esc(value)}</b><span>{esc(name)}</span></div>'
        for name, value in tiles(data)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Complaints pipeline report {esc(stamp)}</title><style>{CSS}</style></head><body>"
        f'<h1>Complaints pipeline report</h1><p class="meta">{esc(stamp)}{esc(source)}</p>'
        f'<section class="tiles">{tile_html}</section>'
        + "".join(_figure(chart) for chart in charts(data))
        + "</body></html>\n"
    )


# ---------------------------------------------------------------- command


@dataclass(frozen=True)
class ReportOptions:
    """What `complaints report` was asked to do."""

    out: Path
    database: str
    mongo_url: str
    timezone: str = REPORT_ZONE


async def build(options: ReportOptions, *, now: datetime) -> str:
    """Read the database and return the page (the client is closed either way)."""
    from pydantic import SecretStr

    from servicekit.mongo import database, open_client
    from servicekit.settings import MongoSettings

    settings = MongoSettings(url=SecretStr(options.mongo_url), database=options.database)
    client = open_client(settings, app_name="complaints-report")
    try:
        sources = await gather(database(client, settings))
    finally:
        await client.close()
    return render(summarise(sources, now=now, database=options.database, timezone=options.timezone))


def report_command(options: ReportOptions) -> int:
    """Write the page; 2 when MongoDB cannot be read."""
    from pymongo.errors import PyMongoError

    try:
        page = asyncio.run(build(options, now=datetime.now(UTC)))
    except PyMongoError as exc:
        sys.stderr.write(f"complaints report: cannot read MongoDB ({type(exc).__name__})\n")
        return 2
    options.out.write_text(page, encoding="utf-8")
    sys.stdout.write(f"{options.out}\n")
    return 0
