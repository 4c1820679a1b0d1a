"""The demo's staff side: handlers, a team lead and a manager work the cases through the case API.

The services run on a compressed clock (one working day per real minute, from a working-day
morning). As cases appear, each gets a script chosen by a fixed pattern — prompt handling, waiting
for the customer, unreachable callbacks, baseless complaints, late or no dispatch, a withdrawal, one
reopening and one extension — whose steps fall due in working hours after receipt (faster for P1 /
P2). Every step goes through `POST /cases/{id}/actions` and waits until the lifecycle consumer has
applied it, so a viewer sees acknowledgements, dispatches, pauses, resolutions, callbacks and
closures, and the clocks of the neglected cases breach and escalate. At the end the SLA's own data
tells how timely the handling was, per clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import sys
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.case_cmd import Answer, CaseClient
from complaints_cli.sla_clocks import clock_documents
from complaints_cli.summary import ClockTally, render_staff
from servicekit.clock import ScaledClock
from servicekit.mongo import find_all
from sla.domain import BusinessCalendar

if TYPE_CHECKING:
    import httpx

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCALE = 540.0  # business seconds per real second: a 9-hour working day per real minute
START_AT = clock_time(8, 45)  # the run starts on a working-day morning, before opening
PLAY_FOR_S = 300.0  # real seconds the staff keep working after the workload has landed
POLL_S = 1.0  # real seconds between looks for new cases, and between progress lines
HANDLERS = tuple(f"handler-{n:02d}" for n in range(1, 6))
LEAD, MANAGER = "lead-01", "manager-01"
OPEN_STATES = ("classified", "acknowledged")
PAGE = 200
# Working hours count fully for P3 / P4; P1 and P2 clocks run in natural minutes, so staff hurry.
PACE = {"P1": 0.1, "P2": 0.25, "P3": 1.0, "P4": 1.0}
SPREAD_HOURS = (
    0.5  # cases start up to this much later (by their id), so staff do not all act at once
)
Json = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One action of a script, `after` working hours after the previous one (before the pace)."""

    after: float
    action: str
    by: str = "handler"  # handler (the assigned one) | lead | manager
    fields: Mapping[str, object] = field(default_factory=dict)


def _close(verdict: str, root_cause: str) -> Step:
    return Step(0.5, "closed", "lead", {"verdict": verdict, "root_cause": root_cause})


# How long a staff member waits for an action to be applied before giving the case up: at the
# demo's pace the SLA service also fires hundreds of warnings a minute, so bursts queue up.
CONFIRM_LIMIT_S = 300.0
# Hundreds of staff poll at once: a quarter-second poll each would starve the SLA service.
CONFIRM_POLL_S = 2.0
ACKNOWLEDGE = Step(0.3, "acknowledged")  # unless the acknowledgement SMS already did
ASSIGN = Step(1.0, "assigned", "lead")
CONTACT = Step(1.5, "contacted")
RESOLVE = Step(5.0, "resolved", fields={"result": "已核实问题并为客户处理完毕"})
SATISFIED = Step(3.0, "callback_done", fields={"satisfaction": "satisfied"})
UNREACHABLE = Step(1.0, "callback_done", fields={"satisfaction": "unreachable"})
PROMPT = (ASSIGN, CONTACT, RESOLVE, SATISFIED, _close("upheld", "业务规则执行有误"))
SCRIPTS: dict[str, tuple[Step, ...]] = {
    "prompt": PROMPT,
    "awaiting": (
        ASSIGN,
        CONTACT,
        Step(1.0, "awaiting_customer", fields={"reason": "等待客户提供缴费凭证"}),
        Step(4.0, "customer_replied"),
        Step(3.0, "resolved", fields={"result": "根据客户凭证更正账单"}),
        Step(2.0, "callback_done", fields={"satisfaction": "satisfied"}),
        _close("partly_upheld", "账单核对流程遗漏"),
    ),
    "unreachable": (
        ASSIGN,
        CONTACT,
        RESOLVE,
        UNREACHABLE,
        UNREACHABLE,
        UNREACHABLE,
        _close("partly_upheld", "处理结果已短信告知"),
    ),
    "baseless": (
        ASSIGN,
        CONTACT,
        Step(3.0, "resolved", fields={"result": "经核查收费无误，已向客户解释"}),
        Step(2.0, "callback_done", fields={"satisfaction": "dissatisfied"}),
        _close("baseless", "客户对资费理解有误"),
    ),
    "late": (Step(4.5, "assigned", "lead"), *PROMPT[1:]),  # dispatch breached (4 wh)
    "escalated": (Step(7.0, "assigned", "lead"), CONTACT, RESOLVE),  # dispatch escalated (6 wh)
    "neglected": (),  # nobody acts: dispatch and first contact breach and escalate
    "withdrawn": (ASSIGN, CONTACT, Step(2.0, "withdrawn", fields={"reason": "客户来电撤诉"})),
    "reopen": (
        *PROMPT,
        Step(1.0, "reopened", "lead", {"reason": "客户反映问题再次出现"}),
        Step(0.5, "assigned", "lead"),
        Step(1.0, "contacted"),
        Step(3.0, "resolved", fields={"result": "更换设备后问题解决"}),
    ),
    "extend": (
        ASSIGN,
        CONTACT,
        Step(
            1.0,
            "deadline_extended",
            "manager",
            {
                "clock": "resolution",
                "extend_by_hours": 16,
                "reason": "需设备厂商上门检测",
                "approver": MANAGER,
            },
        ),
        Step(6.0, "resolved", fields={"result": "厂商检测后更换设备"}),
        SATISFIED,
        _close("upheld", "设备老化"),
    ),
}
PATTERN = (
    "prompt",
    "awaiting",
    "prompt",
    "unreachable",
    "late",
    "prompt",
    "baseless",
    "neglected",
    "prompt",
    "awaiting",
    "withdrawn",
    "prompt",
    "escalated",
    "unreachable",
    "prompt",
    "baseless",
    "awaiting",
    "neglected",
    "prompt",
    "late",
)
ONCE = {"prompt": "reopen", "awaiting": "extend"}  # the first case of these scripts gets these


@dataclass(frozen=True)
class Assignment:
    """A case and what the staff will do with it."""

    complaint_id: str
    script: str
    severity: str
    received_at: datetime
    handler: str
    department: str
    acknowledged: bool = False  # the acknowledgement SMS was delivered before staff took it


class Caster:
    """Gives each new case its script (the pattern in order of appearance) and its handler."""

    def __init__(self) -> None:
        self._slots = itertools.cycle(PATTERN)
        self._handlers = itertools.cycle(HANDLERS)
        self._once = dict(ONCE)

    def cast(self, row: Json) -> Assignment:
        """The script for one listed case."""
        script = next(self._slots)
        script = self._once.pop(script, script)
        category = row.get("category") or "customer_service"
        return Assignment(
            complaint_id=row["complaint_id"],
            script=script,
            severity=row["severity"],
            received_at=datetime.fromisoformat(row["received_at"]),
            handler=next(self._handlers),
            department=category.split("/")[0],
            acknowledged=row.get("state") != "classified",
        )


def spread(complaint_id: str) -> float:
    """Working hours this case's script starts late: 0 to `SPREAD_HOURS`, fixed by its id."""
    return zlib.crc32(complaint_id.encode()) % 1000 / 1000 * SPREAD_HOURS


def timeline(assignment: Assignment, calendar: BusinessCalendar) -> list[tuple[datetime, Step]]:
    """When each step of the case's script falls due (working hours, at the severity's pace)."""
    pace = PACE.get(assignment.severity, 1.0)
    at = calendar.add_working_hours(assignment.received_at, spread(assignment.complaint_id) * pace)
    planned = []
    script = SCRIPTS[assignment.script]
    # The neglected are left to the SMS; nobody acknowledges what the SMS already did.
    first = () if assignment.acknowledged else (ACKNOWLEDGE,)
    steps = (*first, *script) if script else ()
    for step in steps:
        at = calendar.add_working_hours(at, step.after * pace)
        planned.append((at, step))
    return planned


def body_for(assignment: Assignment, step: Step, index: int) -> Json:
    """The case API body of one step (a deterministic action id: a rerun is the same action)."""
    body: Json = {
        "action": step.action,
        "action_id": f"staff-{assignment.complaint_id}-{index}",
        **step.fields,
    }
    if step.action == "assigned":
        body |= {"assignee": assignment.handler, "department": assignment.department}
    return body


def working_morning(calendar: BusinessCalendar, today: date) -> datetime:
    """`START_AT` on the latest working day up to `today` (Shanghai)."""
    day = today
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, START_AT, SHANGHAI)


@dataclass
class StaffReport:
    """What the staff did."""

    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    scripts: Counter[str] = field(default_factory=Counter)
    unconfirmed: int = 0
    finished: int = 0


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
        return cls(BusinessCalendar.load(policy_dir=policy_dir, pack=pack))

    def env(self) -> dict[str, str]:
        """The SLA's API keys for the simulated staff."""
        roles = {LEAD: "lead", MANAGER: "manager"}
        staff = {
            key: {"staff_id": who, "role": roles.get(who, "handler")}
            for who, key in self.keys.items()
        }
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
    docs = await clock_documents(db)
    for doc in docs:
        tally = tallies.setdefault(doc["clock"], ClockTally())
        tally.add(
            status=doc["status"],
            due_at=doc["due_at"],
            stopped_at=doc.get("stopped_at"),
            fired=doc.get("fired", ()),
            now=now,
        )
    cases = await find_all(db["cases"], {}, {"state": 1})
    return tallies, Counter(str(c.get("state")) for c in cases)
