"""Did the demo go as scripted? Prompt staff on time, late and neglected cases breached.

Pure: reads clock rows (`sla_clocks`) and which script each case got; `staff` shows the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.sla_clocks import flatten
from complaints_cli.staff_script import Assignment, expected_dispatch
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
    """Per prompt clock: on time; per late script: fired as scripted, and what each case's
    dispatch clock did (`got`); what is still awaited."""

    prompt: dict[str, Share] = field(default_factory=dict)
    scripted: dict[str, Share] = field(default_factory=dict)
    got: dict[str, Counter[str]] = field(default_factory=dict)
    awaited: int = 0  # scripted firings not seen yet (the demo waits for them)


EXPECTED = {
    "late": "dispatch breached, not escalated",
    "escalated": "dispatch escalated",
    "neglected": "dispatch escalated",
}
"""What each late script must make the SLA do, as the closing table says it."""


def fired_as(fired: set[int]) -> str:
    """What a dispatch clock's fired thresholds amount to, in the words of `EXPECTED`."""
    if 150 in fired:
        return "dispatch escalated"
    return "dispatch breached, not escalated" if 100 in fired else "dispatch not breached"


def judge(rows: Iterable[Mapping[str, Any]], scripts: Mapping[str, str]) -> Outcome:
    """Score the run from its clock rows and each case's script."""
    outcome = Outcome(
        prompt={clock: Share() for clock in PROMPT_CLOCKS},
        scripted={s: Share() for s in EXPECTED},
        got={s: Counter() for s in EXPECTED},
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
        outcome.got[script][fired_as(fired)] += 1
        outcome.scripted[script].add(not missing and (must_not is None or must_not not in fired))
    return outcome


def unheard(assignments: Iterable[Assignment], heard: Callable[[str, str], Set[int]]) -> int:
    """Cases whose scripted dispatch firings were not heard yet (`heard(case, clock)`: the
    thresholds announced), of those with a dispatch clock."""
    missing = 0
    for assignment in assignments:
        must, _ = expected_dispatch(assignment.script)
        if must and assignment.dispatch is not None:
            fired = heard(assignment.complaint_id, "dispatch")
            missing += any(percent not in fired for percent in must)
    return missing


def brief(outcome: Outcome) -> list[tuple[str, str]]:
    """The outcome as rows of the demo's closing table: per script, expected vs got."""
    rows = [
        (f"prompt: {clock.replace('_', ' ')} on time", _expected_got(share))
        for clock, share in outcome.prompt.items()
    ]
    for script, share in outcome.scripted.items():
        text = _expected_got(share)
        others = [
            f"{n} {what}" for what, n in outcome.got[script].items() if what != EXPECTED[script]
        ]
        rows.append(
            (f"{script}: {EXPECTED[script]}", text + (f"; {', '.join(others)}" if others else ""))
        )
    return rows


def _expected_got(share: Share) -> str:
    if not share.judged:
        return "expected -, got -"
    return f"expected {share.judged}, got {share.text()}"


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
