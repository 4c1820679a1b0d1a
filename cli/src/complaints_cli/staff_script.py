"""The demo staff's scripts: who they are, what each case's script does and when each step is due.

Pure but for reading the pack's departments; no clock of its own. `staff` plays these scripts
against the case API.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaints_cli.working_time import WorkingCalendar
from servicekit.packfile import read_yaml

SHANGHAI = ZoneInfo("Asia/Shanghai")
START_AT = clock_time(8, 45)  # the run starts on a working-day morning, before opening
HANDLERS = tuple(f"handler-{n:02d}" for n in range(1, 6))
LEAD, MANAGER = "lead-01", "manager-01"
DEFAULT_DEPARTMENT = "customer_service"
"""Where a case without a category is dispatched."""
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
    fields: dict[str, object] = {"verdict": verdict, "root_cause": root_cause}
    if verdict in {"baseless", "malicious"}:  # 002 Art. 17: only with evidence on the case
        fields["evidence"] = ["billing-records", "call-recording"]
    return Step(0.5, "closed", "lead", fields)


ACKNOWLEDGE = Step(0.3, "acknowledged")  # unless the acknowledgement SMS already did
ASSIGN = Step(1.0, "assigned", "lead")
CONTACT = Step(1.5, "contacted")
RESOLVE = Step(3.0, "resolved", fields={"result": "已核实问题并为客户处理完毕"})
SATISFIED = Step(2.0, "callback_done", fields={"satisfaction": "satisfied"})
UNREACHABLE = Step(1.0, "callback_done", fields={"satisfaction": "unreachable"})
PROMPT = (ASSIGN, CONTACT, RESOLVE, SATISFIED, _close("upheld", "业务规则执行有误"))
SCRIPTS: dict[str, tuple[Step, ...]] = {
    "prompt": PROMPT,
    "awaiting": (
        ASSIGN,
        CONTACT,
        Step(1.0, "awaiting_customer", fields={"reason": "等待客户提供缴费凭证"}),
        Step(2.0, "customer_replied"),
        Step(2.0, "resolved", fields={"result": "根据客户凭证更正账单"}),
        Step(1.0, "callback_done", fields={"satisfaction": "satisfied"}),
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
    # Dispatch breached (due 4 wh; P1 30 min, P2 1 h) but not escalated (150 %), at every pace.
    "late": (Step(5.0, "assigned", "lead"), *PROMPT[1:]),
    # Dispatch escalated: past 150 % of its span (6 wh; P1 45 min, P2 90 min) at every pace.
    "escalated": (Step(7.5, "assigned", "lead"), CONTACT, RESOLVE),
    "neglected": (),  # nobody acts: dispatch and first contact breach and escalate
    # The customer's request, confirmed by a lead (issue 20: a handler may not withdraw).
    "withdrawn": (ASSIGN, CONTACT, Step(2.0, "withdrawn", "lead", {"reason": "客户来电撤诉"})),
    "reopen": (
        *PROMPT,
        Step(1.0, "reopened", "lead", {"reason": "客户反映问题再次出现"}),
        Step(0.5, "assigned", "lead"),
        Step(1.0, "contacted"),
        Step(2.0, "resolved", fields={"result": "更换设备后问题解决"}),
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
        Step(4.0, "resolved", fields={"result": "厂商检测后更换设备"}),
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
DISPATCH_SHARE = {"late": 1.1, "escalated": 1.875}
"""Where in its own dispatch clock's span (started → due) a late script dispatches: just past the
breach (100 %), well before the escalation (150 %), or well past both. The pace table only
approximates a P1 / P2 clock in natural time (4.5–5.8 "working hours" sat within minutes of 150 %
for P2, a third of a real second at the demo's pace), so a late dispatch applied a moment late
escalated. The late dispatch also waits until the breach was announced (`awaited_firing`), so it
may sit close to it: 40 % of the span (12 business minutes of a P1) is left before the
escalation, while the pipeline applies it (business time holds meanwhile, `demo_hold`)."""


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
    dispatch: tuple[datetime, datetime] | None = None  # the case's dispatch clock: start, due


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
        category = row.get("category") or DEFAULT_DEPARTMENT
        return Assignment(
            complaint_id=row["complaint_id"],
            script=script,
            severity=row["severity"],
            received_at=datetime.fromisoformat(row["received_at"]),
            handler=next(self._handlers),
            department=category.split("/")[0],
            acknowledged=row.get("state") != "classified",
            dispatch=dispatch_clock(row),
        )


def dispatch_clock(row: Json) -> tuple[datetime, datetime] | None:
    """The first dispatch clock's start and due time of a case view, if it shows one."""
    for clock in row.get("clocks") or ():
        if clock.get("clock") == "dispatch" and clock.get("occurrence", 1) == 1:
            start, due = clock.get("started_at"), clock.get("due_at")
            if start and due:
                return datetime.fromisoformat(start), datetime.fromisoformat(due)
    return None


def into_span(
    calendar: WorkingCalendar, span: tuple[datetime, datetime], share: float, *, working: bool
) -> datetime:
    """The moment `share` of a clock's span after its start (working time for a working clock)."""
    start, due = span
    if not working:
        return start + (due - start) * share
    return calendar.add_working_time(start, calendar.working_time_between(start, due) * share)


def spread(complaint_id: str) -> float:
    """Working hours this case's script starts late: 0 to `SPREAD_HOURS`, fixed by its id."""
    return zlib.crc32(complaint_id.encode()) % 1000 / 1000 * SPREAD_HOURS


def timeline(assignment: Assignment, calendar: WorkingCalendar) -> list[tuple[datetime, Step]]:
    """When each step of the case's script falls due (working hours, at the severity's pace)."""
    pace = PACE.get(assignment.severity, 1.0)
    at = calendar.add_working_hours(assignment.received_at, spread(assignment.complaint_id) * pace)
    planned = []
    script = SCRIPTS[assignment.script]
    # The neglected are left to the SMS; nobody acknowledges what the SMS already did.
    first = () if assignment.acknowledged else (ACKNOWLEDGE,)
    steps = (*first, *script) if script else ()
    share = DISPATCH_SHARE.get(assignment.script)
    for n, step in enumerate(steps):
        before, at = at, calendar.add_working_hours(at, step.after * pace)
        if share and assignment.dispatch and n == len(first):  # the script's late dispatch
            # P3 / P4 clocks count working hours (pace 1); P1 / P2 run in natural time.
            working = PACE.get(assignment.severity, 1.0) == 1.0
            at = max(before, into_span(calendar, assignment.dispatch, share, working=working))
        planned.append((at, step))
    return planned


PRESSING = frozenset({"acknowledged", "assigned", "contacted"})
"""Steps that stop an hour-scale clock (acknowledge, dispatch, first contact: 15 minutes to 4
working hours, 1.7 to 27 real seconds at the demo's pace): business time holds while one of them
waits on the system (`demo_hold`). The others stop clocks of days, which a lag of seconds does
not move."""


def awaited_firing(assignment: Assignment, index: int) -> int | None:
    """The dispatch threshold a late script's dispatch (step `index`) first waits to see the SLA
    announce — the breach for `late`, the escalation for `escalated` — so the scripted outcome
    does not hang on how far the SLA's scheduler lags behind the clock; None for other steps and
    for a case without a dispatch clock."""
    firings = SCRIPTED_FIRINGS.get(assignment.script)
    first = 0 if assignment.acknowledged else 1
    if not firings or index != first or assignment.dispatch is None:
        return None
    return firings[-1]


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


def working_morning(calendar: WorkingCalendar, today: date) -> datetime:
    """`START_AT` on the latest working day up to `today` (Shanghai)."""
    day = today
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, START_AT, SHANGHAI)


SCRIPTED_FIRINGS: dict[str, tuple[int, ...]] = {"late": (100,), "escalated": (100, 150)}
"""The dispatch thresholds each late script must fire (the neglected: `NEGLECTED_FIRINGS`)."""
NEGLECTED_FIRINGS = (100, 150)
NOT_FIRED: dict[str, int] = {"late": 150}  # late, but not so late that it escalates


def expected_dispatch(script: str) -> tuple[tuple[int, ...], int | None]:
    """The dispatch thresholds a script must fire, and one it must not (None: no such)."""
    if script == "neglected":
        return NEGLECTED_FIRINGS, None
    return SCRIPTED_FIRINGS.get(script, ()), NOT_FIRED.get(script)


def pack_departments(pack_dir: Path) -> tuple[str, ...]:
    """The departments the demo dispatches to: the top level of the pack's taxonomy."""
    path = pack_dir / "classifier.yaml"
    if not path.is_file():
        return ()
    data = read_yaml(path, ValueError)
    taxonomy = data.get("taxonomy") if isinstance(data, dict) else None
    return tuple(sorted(str(code) for code in taxonomy)) if isinstance(taxonomy, dict) else ()
