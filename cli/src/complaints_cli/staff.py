"""The demo's staff side: handlers, a team lead and a manager work the cases through the case API.

The services run on a compressed clock (one working day per real minute, from a working-day
morning). As cases appear, each gets a script chosen by a fixed pattern — prompt handling, waiting
for the customer, unreachable callbacks, baseless complaints, late or no dispatch, a withdrawal, one
reopening and one extension — whose steps fall due in working hours after receipt (faster for P1 /
P2). Every step goes through `POST /cases/{id}/actions` and waits until the lifecycle consumer has
applied it, so a viewer sees acknowledgements, dispatches, pauses, resolutions, callbacks and
closures, and the clocks of the neglected cases breach and escalate. At the end the SLA's own data
tells how timely the handling was, per clock. The scripts themselves are in `staff_script`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.case_client import Answer, CaseClient
from complaints_cli.sla_clocks import clock_documents, flatten
from complaints_cli.staff_script import (
    DEFAULT_DEPARTMENT,
    HANDLERS,
    LEAD,
    MANAGER,
    SHANGHAI,
    Assignment,
    Caster,
    Json,
    body_for,
    timeline,
    working_morning,
)
from complaints_cli.summary import ClockTally, render_staff
from contracts.read_models import CASE_SHEETS
from servicekit.clock import ScaledClock
from servicekit.packfile import read_yaml
from servicekit.read_models import documents
from sla.domain import BusinessCalendar

if TYPE_CHECKING:
    import httpx

SCALE = 540.0  # business seconds per real second: a 9-hour working day per real minute
PLAY_FOR_S = 300.0  # real seconds the staff keep working after the workload has landed
POLL_S = 1.0  # real seconds between looks for new cases, and between progress lines
OPEN_STATES = ("classified", "acknowledged")
PAGE = 200
# How long a staff member waits for an action to be applied before giving the case up: at the
# demo's pace the SLA service also fires hundreds of warnings a minute, so bursts queue up.
CONFIRM_LIMIT_S = 300.0
# Hundreds of staff poll at once: a quarter-second poll each would starve the SLA service.
CONFIRM_POLL_S = 2.0


@dataclass
class StaffReport:
    """What the staff did."""

    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    scripts: Counter[str] = field(default_factory=Counter)
    unconfirmed: int = 0
    finished: int = 0


def pack_departments(pack_dir: Path) -> tuple[str, ...]:
    """The departments the demo dispatches to: the top level of the pack's taxonomy."""
    path = pack_dir / "classifier.yaml"
    if not path.is_file():
        return ()
    data = read_yaml(path, ValueError)
    taxonomy = data.get("taxonomy") if isinstance(data, dict) else None
    return tuple(sorted(str(code) for code in taxonomy)) if isinstance(taxonomy, dict) else ()


class StaffDemo:
    """The staff side of `complaints demo`: keys, clock, and the simulated people."""

    def __init__(
        self,
        calendar: BusinessCalendar,
        *,
        scale: float = SCALE,
        origin: datetime | None = None,
        play_for_s: float = PLAY_FOR_S,
    ) -> None:
        self.calendar = calendar
        self.play_for_s = play_for_s
        self.scale = scale
        self.origin = origin or working_morning(calendar, datetime.now(SHANGHAI).date())
        self.anchor = datetime.now(SHANGHAI)
        self.clock = ScaledClock(scale=scale, origin=self.origin, anchor=self.anchor)
        self.keys = {who: secrets.token_urlsafe(24) for who in (*HANDLERS, LEAD, MANAGER)}
        self.departments: tuple[str, ...] = ()
        self.report = StaffReport()
        self.summary = ""
        self._caster = Caster()
        self._seen: set[str] = set()
        self._clients: dict[str, CaseClient] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._watch: asyncio.Task[None] | None = None

    @classmethod
    def for_pack(cls, policy_dir: Path, pack: str = "telecom") -> StaffDemo:
        """The staff demo on the pack's business calendar."""
        demo = cls(BusinessCalendar.load(policy_dir=policy_dir, pack=pack))
        demo.departments = pack_departments(policy_dir / pack)
        return demo

    def env(self) -> dict[str, str]:
        """The SLA's API keys for the simulated staff: the lead leads every department the
        demo dispatches to (the case API scopes a lead to their departments, issue 20)."""
        roles = {LEAD: "lead", MANAGER: "manager"}
        staff: dict[str, dict[str, object]] = {
            key: {"staff_id": who, "role": roles.get(who, "handler")}
            for who, key in self.keys.items()
        }
        staff[self.keys[LEAD]]["departments"] = sorted({DEFAULT_DEPARTMENT, *self.departments})
        return {"SLA_API_KEYS": json.dumps(staff)}

    def start(self, api: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Begin watching for cases (the services are up and the workload is published)."""
        self._clients = {
            who: CaseClient(base_url=api, api_key=key, transport=transport)
            for who, key in self.keys.items()
        }
        self._watch = asyncio.create_task(self._discover_forever(), name="staff-discover")

    async def _discover_forever(self) -> None:
        while True:
            await self._discover()
            await asyncio.sleep(POLL_S)

    async def _discover(self) -> None:
        """Take the cases nobody has acted on yet (classified or acknowledged)."""
        for state in OPEN_STATES:
            page = 1
            while True:
                query: dict[str, str | int] = {"state": state, "page": page, "page_size": PAGE}
                answer = await self._clients[LEAD].list(query)
                if answer.status != 200:
                    return
                for row in sorted(answer.body["items"], key=lambda r: r["complaint_id"]):
                    self._take(row)
                if page * PAGE >= answer.body["total"]:
                    break
                page += 1

    def _take(self, row: Json) -> None:
        if row["complaint_id"] in self._seen:
            return
        self._seen.add(row["complaint_id"])
        assignment = self._caster.cast(row)
        self.report.scripts[assignment.script] += 1
        self._workers.append(asyncio.create_task(self._work(assignment)))

    async def _work(self, assignment: Assignment) -> None:
        for index, (at, step) in enumerate(timeline(assignment, self.calendar)):
            wait = (at - self.clock.now()).total_seconds() / self.scale
            await asyncio.sleep(max(0.0, wait))
            actor = {"lead": LEAD, "manager": MANAGER}.get(step.by, assignment.handler)
            body = body_for(assignment, step, index)
            answer = await self._clients[actor].act_and_wait(
                assignment.complaint_id, body, limit_s=CONFIRM_LIMIT_S, every_s=CONFIRM_POLL_S
            )
            if not self._tally(body, answer):
                return
        self.report.finished += 1

    def _tally(self, body: Json, answer: Answer) -> bool:
        if answer.status == 200 and answer.body.get("status") == "applied":
            self.report.applied[str(body["action"])] += 1
            return True
        if answer.body.get("reason") == "already_acknowledged":
            return True  # the delivered acknowledgement SMS was first
        if answer.status == 202:
            self.report.unconfirmed += 1
        else:
            self.report.refused[str(answer.body.get("reason"))] += 1
        return False

    async def work(
        self, *, limit_s: float, progress: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        """Take the last new cases; return when every script is done or after `limit_s`.

        Called once the workload has landed: every case exists, so one last look suffices.
        """
        if self._watch is not None:
            self._watch.cancel()
        await self._discover()
        started = time.monotonic()
        while time.monotonic() - started < limit_s:
            if all(w.done() for w in self._workers):
                return
            if progress is not None:
                await progress(time.monotonic() - started)
            await asyncio.sleep(POLL_S)

    async def finish(self, db: AsyncDatabase[Json], *, progress: bool) -> None:
        """Let the staff work up to `play_for_s`, then read how the clocks fared."""

        async def show(elapsed: float) -> None:
            await self._show_progress(db, elapsed)

        await self.work(limit_s=self.play_for_s, progress=show if progress else None)
        if progress:
            sys.stderr.write("\n")
        await self.stop()
        tallies, states = await sla_outcomes(db, now=self.clock.now())
        r = self.report
        self.summary = render_staff(
            clocks=tallies,
            states=states,
            actions=r.applied,
            refused=r.refused + Counter({"not_confirmed_in_time": r.unconfirmed}),
            scripts=r.scripts,
        )

    async def _show_progress(self, db: AsyncDatabase[Json], elapsed: float) -> None:
        fired = [d for d in await clock_documents(db) if 100 in d["fired"]]
        escalated = sum(1 for d in fired if 150 in d.get("fired", ()))
        now = self.calendar.local(self.clock.now())
        working = sum(1 for w in self._workers if not w.done())
        sys.stderr.write(
            f"\r[staff] {elapsed:5.1f}s  business {now:%a %H:%M}  "
            f"actions {sum(self.report.applied.values())}  cases in hand {working}  "
            f"breaches {len(fired)}  escalations {escalated}   "
        )
        sys.stderr.flush()

    async def stop(self) -> None:
        """Stop watching and working; close the clients."""
        tasks = [*self._workers, *([self._watch] if self._watch else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in self._clients.values():
            await client.close()


async def sla_outcomes(
    db: AsyncDatabase[Json], *, now: datetime
) -> tuple[dict[str, ClockTally], Counter[str]]:
    """Per clock: met on time / late, running past due, breached, escalated; cases per state."""
    tallies: dict[str, ClockTally] = {}
    cases = await documents(db, CASE_SHEETS)  # states and clock sheets in one read
    docs = flatten(cases)
    for doc in docs:
        tally = tallies.setdefault(doc["clock"], ClockTally())
        tally.add(
            status=doc["status"],
            due_at=doc["due_at"],
            stopped_at=doc.get("stopped_at"),
            fired=doc.get("fired", ()),
            now=now,
        )
    return tallies, Counter(str(c.get("state")) for c in cases)
