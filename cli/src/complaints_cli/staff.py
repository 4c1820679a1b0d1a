"""The demo's staff side: handlers, a team lead and a manager work the cases through the case API.

The services run on a compressed clock (one working day per real minute from a working-day
morning; nights and weekends in seconds, `demo_clock`). As cases appear, each gets a script chosen
by a fixed pattern — prompt handling, waiting for the customer, unreachable callbacks, baseless
complaints, late or no dispatch, a withdrawal, one reopening and one extension — whose steps fall
due in working hours after receipt (faster for P1 / P2). Every step goes through
`POST /cases/{id}/actions` and waits until the lifecycle consumer has applied it, so a viewer sees
acknowledgements, dispatches, pauses, resolutions, callbacks and closures, and the clocks of the
neglected cases breach and escalate. The demo plays until every script is done and every scripted
breach has fired; then the SLA's own data tells how timely the handling was, per clock and per
script (`staff_outcome`). The scripts themselves are in `staff_script`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.case_client import CaseClient
from complaints_cli.demo_clock import opening, pace_plan, plan_json
from complaints_cli.demo_hold import TimeKeeper
from complaints_cli.sla_clocks import clock_documents
from complaints_cli.staff_feed import StaffFeed
from complaints_cli.staff_hands import act, hear_firing, until
from complaints_cli.staff_outcome import Outcome, judge, progress_line, sla_outcomes, unheard
from complaints_cli.staff_report import StaffReport
from complaints_cli.staff_script import (
    DEFAULT_DEPARTMENT,
    HANDLERS,
    LEAD,
    MANAGER,
    PRESSING,
    SHANGHAI,
    Assignment,
    Caster,
    Json,
    body_for,
    pack_departments,
    timeline,
    working_morning,
)
from complaints_cli.summary import render_staff
from complaints_cli.working_time import WorkingCalendar, fetch
from servicekit.clock import ScaledClock

if TYPE_CHECKING:
    import httpx

SCALE = 540.0  # business seconds per real second: a 9-hour working day per real minute
PLAY_FOR_S = 150.0  # at most this long (real seconds) after the workload has landed
POLL_S = 1.0  # real seconds between looks for new cases, and between progress lines
# Business time stands at the origin until the services are up (they may take 5 s or 45 s to
# start on a busy machine); then it starts for every process at once, this long after.
START_LEAD_S = 0.5
ARRIVE_S = 20.0  # real seconds over which the workload arrives: 09:00 to 12:00 business time
OPEN_STATES = ("classified", "acknowledged")
PAGE = 200
# Requests the staff have in flight at once, below the case API's limit (8, HTTP_GUARD): beyond
# it the API answers 503 with Retry-After: 1 s — nine business minutes lost before the retry.
IN_FLIGHT = 6


class StaffDemo:
    """The staff side of `complaints demo`: keys, clock, and the simulated people."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        *,
        scale: float = SCALE,
        origin: datetime | None = None,
        play_for_s: float = PLAY_FOR_S,
        arrive_s: float = ARRIVE_S,
    ) -> None:
        self.calendar = calendar
        self.arrive_s = arrive_s
        self.play_for_s = play_for_s
        self.scale = scale
        self.origin = origin or working_morning(calendar, datetime.now(SHANGHAI).date())
        self.anchor_file = Path(tempfile.mkdtemp(prefix="complaints-demo-")) / "anchor"
        self.opening = opening(calendar, self.origin)
        self.plan = pace_plan(calendar, self.origin, scale=scale)
        self.clock = ScaledClock(
            scale=scale, origin=self.origin, plan=self.plan, anchor_file=self.anchor_file
        )
        self.keeper = TimeKeeper(self.anchor_file)
        self.keys = {who: secrets.token_urlsafe(24) for who in (*HANDLERS, LEAD, MANAGER)}
        self.departments: tuple[str, ...] = ()
        self.report = StaffReport()
        self.summary = ""
        self._caster = Caster()
        self._seen: set[str] = set()
        self.scripts: dict[str, str] = {}  # complaint id → its script
        self._assignments: list[Assignment] = []
        self.outcome = Outcome()
        self._clients: dict[str, CaseClient] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._watch: asyncio.Task[None] | None = None
        self._feed: StaffFeed | None = None

    @classmethod
    def for_pack(cls, policy_dir: Path, pack: str = "telecom") -> StaffDemo:
        """The staff demo on the pack's business calendar (the SLA's tool gives its weeks)."""
        demo = cls(fetch(policy_dir, pack, around=datetime.now(SHANGHAI).date()))
        demo.departments = pack_departments(policy_dir / pack)
        return demo

    @property
    def busy_answers(self) -> int:
        """How often the case API told the staff "not now" (503 / 429) and they had to wait."""
        return sum(client.busy for client in self._clients.values())

    @property
    def time_plan(self) -> str:
        """The pace plan every service of the run gets (`<SERVICE>_TIME_PLAN`)."""
        return plan_json(self.plan)

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

    def start(
        self,
        api: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        feed: StaffFeed | None = None,
    ) -> None:
        """Start business time for every process (the services are up), and begin watching for
        cases: from the `feed` (started) if given, else by listing them."""
        self.keeper.start(datetime.now(UTC) + timedelta(seconds=START_LEAD_S))
        gate = asyncio.Semaphore(IN_FLIGHT)  # one office, one queue: not a retry a second later
        self._clients = {
            who: CaseClient(base_url=api, api_key=key, transport=transport, gate=gate)
            for who, key in self.keys.items()
        }
        self._feed = feed
        watch = self._hear_forever(feed) if feed else self._discover_forever()
        self._watch = asyncio.create_task(watch, name="staff-discover")

    async def _hear_forever(self, feed: StaffFeed) -> None:
        while True:
            cid = await feed.cases.get()
            answer = await self._clients[LEAD].show(cid)
            if answer.status == 200 and answer.body.get("state") in OPEN_STATES:
                self._take(answer.body)

    async def _discover_forever(self) -> None:
        while True:
            await self._discover()
            await asyncio.sleep(POLL_S)

    async def _discover(self) -> None:
        """Take the cases nobody has acted on yet (classified or acknowledged)."""
        for state in OPEN_STATES:
            query: dict[str, str | int] = {"state": state, "page_size": PAGE}
            while True:
                answer = await self._clients[LEAD].list(query)
                if answer.status != 200:
                    return
                for row in sorted(answer.body["items"], key=lambda r: r["complaint_id"]):
                    self._take(row)
                if not answer.body.get("next_after"):
                    break
                query["after"] = answer.body["next_after"]

    def _take(self, row: Json) -> None:
        if row["complaint_id"] in self._seen:
            return
        self._seen.add(row["complaint_id"])
        assignment = self._caster.cast(row)
        self.report.scripts[assignment.script] += 1
        self.scripts[assignment.complaint_id] = assignment.script
        self._assignments.append(assignment)
        self._workers.append(asyncio.create_task(self._work(assignment)))

    async def _work(self, assignment: Assignment) -> None:
        for index, (at, step) in enumerate(timeline(assignment, self.calendar)):
            await until(self.clock, at)
            actor = {"lead": LEAD, "manager": MANAGER}.get(step.by, assignment.handler)
            body = body_for(assignment, step, index)
            key = str(body["action_id"])
            if step.action in PRESSING:  # from now on, business time waits for the system
                self.keeper.due(key)
            try:
                await hear_firing(self._feed, assignment, index)
                answer = await act(self._clients[actor], self._feed, assignment.complaint_id, body)
            finally:
                self.keeper.done(key)
            if not self.report.tally(body, answer):
                return
        self.report.finished += 1

    async def work(
        self,
        *,
        limit_s: float,
        progress: Callable[[float], Awaitable[None]] | None = None,
        settled: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Take the last new cases; return when every script is done and every scripted breach
        has fired (`settled`), or after `limit_s`.

        Called once the workload has landed: every case exists, so one last look suffices.
        """
        if self._watch is not None:
            self._watch.cancel()
        await self._discover()
        started = time.monotonic()
        while time.monotonic() - started < limit_s:
            if all(w.done() for w in self._workers) and (settled is None or await settled()):
                return
            if progress is not None:
                await progress(time.monotonic() - started)
            await asyncio.sleep(POLL_S)

    async def finish(self, db: AsyncDatabase[Json], *, progress: bool) -> None:
        """Let the staff work up to `play_for_s`, then read how the clocks fared."""

        rows: list[Json] = []  # the clocks as last read (without a feed, for the progress line)

        async def show(elapsed: float) -> None:
            self._show_progress(self._feed.firings() if self._feed else rows, elapsed)

        async def settled() -> bool:
            # What the feed heard decides while firings are missing: reading every case's clocks
            # each second took seconds of the database's time on a busy machine. Once it heard
            # them all, the clock sheets confirm it.
            if self._feed is not None and unheard(self._assignments, self._feed.heard):
                return False
            rows[:] = await clock_documents(db)
            self.outcome = judge(rows, self.scripts)
            return self.outcome.awaited == 0

        await self.work(
            limit_s=self.play_for_s, progress=show if progress else None, settled=settled
        )
        if progress:
            sys.stderr.write("\n")
        await self.stop()
        tallies, states = await sla_outcomes(db, now=self.clock.now())
        self.outcome = judge(await clock_documents(db), self.scripts)
        r = self.report
        self.summary = render_staff(
            clocks=tallies,
            states=states,
            actions=r.applied,
            refused=r.refused + Counter({"not_confirmed_in_time": r.unconfirmed}),
            scripts=r.scripts,
        )

    def _show_progress(self, rows: list[Json], elapsed: float) -> None:
        now, actions = self.calendar.local(self.clock.now()), sum(self.report.applied.values())
        working = sum(1 for w in self._workers if not w.done())
        sys.stderr.write(progress_line(rows, elapsed, now=now, actions=actions, working=working))
        sys.stderr.flush()

    async def stop(self) -> None:
        """Stop watching and working; close the clients; let business time run on."""
        tasks = [*self._workers, *([self._watch] if self._watch else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.keeper.stop()
        for client in self._clients.values():
            await client.close()
