"""The report's charts: each figure of `ReportData` as a titled SVG with caption and legend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from complaints_cli.report import TOP_CATEGORIES, ReportData
from complaints_cli.svg import (
    BAD,
    GOOD,
    LATE,
    PALETTE,
    SEVERITY_COLOURS,
    Row,
    Segment,
    column_svg,
    hbar_svg,
    pct,
)


@dataclass(frozen=True)
class Chart:
    """A titled figure: `key` names it for tests and anchors."""

    key: str
    title: str
    svg: str
    caption: str = ""
    legend: Sequence[tuple[str, str]] = field(default_factory=tuple)


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
