"""How a fault scenario ended: its counts and notes, a progress line, and the suite's table."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from complaints_cli.stages import StageCounts


@dataclass(frozen=True)
class Outcome:
    """How a scenario ended."""

    name: str
    counts: StageCounts
    seconds: float
    notes: tuple[str, ...]

    @property
    def recovered(self) -> bool:
        """Nothing lost, nothing told twice, and the fault's own check passed."""
        failed = any(note.startswith("FAILED") for note in self.notes)
        return self.counts.complete and self.counts.duplicated == 0 and not failed


def progress(name: str, counts: StageCounts, elapsed: float) -> None:
    """One refreshed line on stderr."""
    sys.stderr.write(
        f"\r[{name}] {elapsed:5.0f}s  normalized {counts.normalized}/{counts.sent}  "
        f"classified {counts.classified}  "
        f"acknowledged {counts.acknowledged}/{counts.expected_acks}   "
    )
    sys.stderr.flush()


def table(outcomes: list[Outcome]) -> str:
    """The per-scenario table."""
    head = (
        f"{'scenario':26} {'sent':>5} {'acked':>6} {'lost':>5} {'dup':>4} {'secs':>5}  "
        "result  notes"
    )
    rows = [head, "-" * len(head)]
    for o in outcomes:
        result = "ok" if o.recovered else "FAIL"
        rows.append(
            f"{o.name:26} {o.counts.sent:5} {o.counts.acknowledged:6} {o.counts.lost:5} "
            f"{o.counts.duplicated:4} {o.seconds:5.0f}  {result:6}  {'; '.join(o.notes)}"
        )
    return "\n".join(rows)
