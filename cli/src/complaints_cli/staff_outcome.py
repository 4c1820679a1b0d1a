"""Did the demo go as scripted? Prompt staff on time, late and neglected cases breached.

Pure: reads clock rows (`sla_clocks`) and which script each case got; `staff` shows the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.sla_clocks import flatten
from complaints_cli.staff_script import expected_dispatch
from complaints_cli.summary import ClockTally
from contracts.read_models import CASE_SHEETS
from servicekit.read_models import documents

PROMPT_SCRIPTS = frozenset({"prompt"})
PROMPT_CLOCKS = ("dispatch", "first_contact")


@dataclass
class Share:
    """How many of the judged went as they should."""

    good: int = 0
    judged: int = 0

    def add(self, ok: bool) -> None:
        """Count one."""
        self.good += ok
        self.judged += 1

    def text(self) -> str:
        """`12/13 (92.3 %)`, or `-` when nothing was judged."""
        if not self.judged:
            return "-"
        return f"{self.good}/{self.judged} ({100 * self.good / self.judged:.1f} %)"


@dataclass
class Outcome:
    """Per prompt clock: on time; per late script: fired as scripted; what is still awaited."""

    prompt: dict[str, Share] = field(default_factory=dict)
    scripted: dict[str, Share] = field(default_factory=dict)
    awaited: int = 0  # scripted firings not seen yet (the demo waits for them)


def judge(rows: Iterable[Mapping[str, Any]], scripts: Mapping[str, str]) -> Outcome:
    """Score the run from its clock rows and each case's script."""
    outcome = Outcome(
        prompt={clock: Share() for clock in PROMPT_CLOCKS},
        scripted={s: Share() for s in ("late", "escalated", "neglected")},
    )
    dispatch: dict[str, set[int]] = {}
    for row in rows:
        script = scripts.get(row["complaint_id"])
        if script is None or row["occurrence"] != 1:
            continue
        if row["clock"] == "dispatch":
            dispatch[row["complaint_id"]] = set(row["fired"])
        judged = row["outcome"] in {"on_time", "late", "overdue"}
        if script in PROMPT_SCRIPTS and row["clock"] in outcome.prompt and judged:
            outcome.prompt[row["clock"]].add(row["outcome"] == "on_time")
    for cid, script in scripts.items():
        if script not in outcome.scripted or cid not in dispatch:
            continue
        must, must_not = expected_dispatch(script)
        fired = dispatch[cid]
        missing = any(p not in fired for p in must)
        outcome.awaited += missing
        outcome.scripted[script].add(not missing and (must_not is None or must_not not in fired))
    return outcome


def brief(outcome: Outcome) -> list[tuple[str, str]]:
    """The outcome as rows of the demo's closing table."""
    rows = [
        (f"prompt staff: {clock.replace('_', ' ')} on time", share.text())
        for clock, share in outcome.prompt.items()
    ]
    fired = {
        "late": "late dispatch: breached, not escalated",
        "escalated": "very late dispatch: escalated",
        "neglected": "neglected: dispatch escalated",
    }
    rows += [(fired[script], share.text()) for script, share in outcome.scripted.items()]
    return rows


async def sla_outcomes(
    db: AsyncDatabase[Any], *, now: datetime
) -> tuple[dict[str, ClockTally], Counter[str]]:
    """Per clock: met on time / late, running past due, breached, escalated; cases per state."""
    tallies: dict[str, ClockTally] = {}
    cases = await documents(db, CASE_SHEETS)  # states and clock sheets in one read
    for doc in flatten(cases):
        tally = tallies.setdefault(doc["clock"], ClockTally())
        tally.add(
            status=doc["status"],
            due_at=doc["due_at"],
            stopped_at=doc.get("stopped_at"),
            fired=doc.get("fired", ()),
            now=now,
        )
    return tallies, Counter(str(c.get("state")) for c in cases)


def progress_line(
    rows: Iterable[Mapping[str, Any]], elapsed: float, *, now: datetime, actions: int, working: int
) -> str:
    """The staff's refreshed progress line: business time, actions, breaches, escalations."""
    fired = [set(r["fired"]) for r in rows if 100 in r["fired"]]
    escalated = sum(1 for f in fired if 150 in f)
    return (
        f"\r[staff] {elapsed:5.1f}s  business {now:%a %H:%M}  actions {actions}  "
        f"cases in hand {working}  breaches {len(fired)}  escalations {escalated}   "
    )
