"""The end-of-run summary people read: per stage, category, severity and deadline, as bar charts."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from complaints_cli.stages import StageCounts
from contracts import ClockStatus


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


@dataclass
class ClockTally:
    """How one clock fared in a run, from the SLA's deadlines."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0  # still running past its due time
    breached: int = 0
    escalated: int = 0

    def add(
        self,
        *,
        status: str,
        due_at: datetime,
        stopped_at: datetime | None,
        fired: Iterable[int],
        now: datetime,
    ) -> None:
        """Count one deadline."""
        seen = set(fired)
        self.breached += 100 in seen
        self.escalated += 150 in seen
        if status == ClockStatus.MET and stopped_at is not None:
            if stopped_at <= due_at:
                self.on_time += 1
            else:
                self.late += 1
        elif status == ClockStatus.RUNNING and due_at < now:
            self.overdue += 1

    @property
    def judged(self) -> int:
        """Deadlines whose timeliness is known: met, or running past due."""
        return self.on_time + self.late + self.overdue


def _rate(on_time: int, judged: int) -> str:
    return f"{100 * on_time / judged:5.1f} %" if judged else "    - "


def render_staff(
    *,
    clocks: Mapping[str, ClockTally],
    states: Counter[str],
    actions: Counter[str],
    refused: Counter[str],
    scripts: Counter[str],
    width: int = 30,
) -> str:
    """The staff side of a demo: what staff did, where cases ended, how timely the clocks were."""
    lines = ["", "=== Staff and deadlines ==="]
    lines += bars("Cases per staff script", scripts)
    lines += bars("Staff actions applied", actions)
    if refused:
        lines += bars("Staff actions refused (reason)", refused)
    lines += bars("Cases per state", states)
    lines += bars("Breaches per clock", {c: t.breached for c, t in clocks.items()})
    lines += bars("Escalations per clock", {c: t.escalated for c, t in clocks.items()})
    lines.append("Timely handling per clock (met on time / (met + running past due))")
    for clock in sorted(clocks):
        t = clocks[clock]
        filled = round(width * t.on_time / t.judged) if t.judged else 0
        lines.append(
            f"  {clock:<18} {'█' * filled}{'░' * (width - filled)} {_rate(t.on_time, t.judged)}"
            f"  ({t.on_time} on time, {t.late} late, {t.overdue} overdue)"
        )
    on_time = sum(t.on_time for t in clocks.values())
    judged = sum(t.judged for t in clocks.values())
    lines.append(f"Timely handling overall {_rate(on_time, judged).strip()} of {judged} judged")
    return "\n".join(lines)


def render_brief(rows: Iterable[tuple[str, str]], *, title: str = "The demo in brief") -> str:
    """A two-column table: what, how it went."""
    pairs = list(rows)
    width = max((len(name) for name, _ in pairs), default=0)
    lines = ["", f"=== {title} ==="]
    lines += [f"  {name:<{width}}  {value}" for name, value in pairs]
    return "\n".join(lines)
