"""SVG bar and column charts for the report: pure string building, nothing fetched or scripted."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
