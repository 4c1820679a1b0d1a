"""The end-of-run summary people read: per stage, category, severity and deadline, as bar charts."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from complaints_cli.stages import StageCounts


def bars(
    title: str, counter: Counter[str] | dict[str, int], width: int = 30, *, ranked: bool = True
) -> list[str]:
    """A titled horizontal bar chart of counts, largest first unless `ranked` is False."""
    items = list(counter.items())
    if ranked:
        items.sort(key=lambda kv: (-kv[1], kv[0]))
    top = max((v for _, v in items), default=0)
    lines = [title]
    for name, value in items:
        filled = round(width * value / top) if top else 0
        lines.append(f"  {name:<18} {'█' * filled}{' ' * (width - filled)} {value}")
    return lines


def _hours(values: Iterable[float]) -> str:
    data = sorted(values)
    if not data:
        return "-"
    return f"median {statistics.median(data):7.1f} h   min {data[0]:7.1f} h   max {data[-1]:7.1f} h"


def render(counts: StageCounts) -> str:
    """The whole summary as text."""
    stages = {
        "1 sent": counts.sent,
        "2 normalized": counts.normalized,
        "3 classified": counts.classified,
        "4 with deadlines": counts.with_deadlines,
        "5 acknowledged": counts.acknowledged,
    }
    lines = ["", "=== Pipeline summary ==="]
    lines += bars("Per stage", dict(stages), ranked=False)
    lines += bars("Kinds", counts.kinds)
    lines += bars("Complaints per category", counts.categories)
    lines += bars("Complaints per severity", counts.severities)
    lines.append("Deadlines per clock (time from receipt to due)")
    for clock in sorted(counts.clocks):
        docs = counts.clocks[clock]
        spans = [(d["due_at"] - d["started_at"]).total_seconds() / 3600 for d in docs]
        breached = sum(1 for d in docs if 100 in d.get("fired", []))
        lines.append(f"  {clock:<18} {len(docs):4d} set   {_hours(spans)}   breached {breached}")
    lines.append(f"Lost {counts.lost}, customers told twice {counts.duplicated}")
    return "\n".join(lines)
