"""The demo's simulated staff against the case API in process (no servers): every script plays
out, through the API, on a compressed clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import httpx

from complaints_cli.staff import StaffDemo
from complaints_cli.staff_script import (
    ONCE,
    PATTERN,
    SCRIPTS,
    Assignment,
    Caster,
    body_for,
    pack_departments,
    spread,
    timeline,
    working_morning,
)
from complaints_cli.summary import ClockTally, render_staff
from contracts import CaseState, ClockName, Event, Severity, Topic
from servicekit.bodies import deliver
from sla.handlers import LIFECYCLE
from sla.http_api import CaseDesk, create_case_api
from sla.queries import CaseQueries
from sla.settings import parse_staff_keys
from tests._builders.sla import CALENDAR, POLICIES, POLICY, RECEIVED, Rig, classified

S = CaseState


def cids(n: int) -> list[str]:
    return [f"CP20261124-{i:010d}" for i in range(1, n + 1)]


def row(cid: str, severity: str = "P4") -> dict[str, object]:
    return {
        "complaint_id": cid,
        "severity": severity,
        "category": "billing/overcharge",
        "received_at": "2026-11-24T09:30:00+08:00",
    }


def test_scripts_follow_the_pattern_with_one_reopening_and_one_extension() -> None:
    caster = Caster()
    scripts = [caster.cast(row(cid)).script for cid in cids(40)]
    assert scripts[:2] == ["reopen", "extend"]
    assert scripts[2:20] == list(PATTERN[2:20])
    assert scripts[20:] == list(PATTERN)
    assert set(scripts) == set(SCRIPTS)


def test_steps_fall_in_working_hours_and_p1_moves_faster() -> None:
    p4 = Assignment(cids(1)[0], "late", "P4", RECEIVED, "handler-01", "billing")
    planned = timeline(p4, CALENDAR)
    assert [step.action for _, step in planned][:2] == ["acknowledged", "assigned"]
    late_by = 0.3 + 5.0 + spread(p4.complaint_id)  # acknowledged, then assigned late
    assert 0 < spread(p4.complaint_id) < 0.5
    assert planned[1][0] == CALENDAR.add_working_hours(RECEIVED, late_by)
    assert all(CALENDAR.is_working_time(at) for at, _ in planned)
    p1 = timeline(Assignment(p4.complaint_id, "prompt", "P1", RECEIVED, "h", "b"), CALENDAR)
    assert planned[1][0] - RECEIVED > timedelta(hours=5)
    assert p1[1][0] - RECEIVED < timedelta(minutes=15)  # dispatch of a P1 is due in 30 min
    assert (
        timeline(Assignment(p4.complaint_id, "neglected", "P4", RECEIVED, "h", "b"), CALENDAR) == []
    )


def test_an_assignment_names_the_handler_and_the_department() -> None:
    a = Assignment(cids(1)[0], "prompt", "P4", RECEIVED, "handler-03", "billing")
    body = body_for(a, SCRIPTS["prompt"][0], 1)
    assert body == {
        "action": "assigned",
        "action_id": f"staff-{a.complaint_id}-1",
        "assignee": "handler-03",
        "department": "billing",
    }


def test_the_demo_starts_on_a_working_day_morning() -> None:
    start = working_morning(CALENDAR, date(2026, 10, 4))  # National Day holiday, a Sunday
    assert start.date() == date(2026, 9, 30)
    assert (start.hour, start.minute) == (8, 45)


def test_staff_keys_cover_every_person_and_role() -> None:
    demo = StaffDemo(CALENDAR)
    staff = parse_staff_keys(demo.env()["SLA_API_KEYS"])
    assert Counter(s.role.value for s in staff.values()) == {"handler": 5, "lead": 1, "manager": 1}


async def test_every_script_plays_out_through_the_case_api(rig: Rig) -> None:
    ids = cids(len(PATTERN))
    await rig.classified(*(classified(cid=cid, severity=Severity.P4) for cid in ids))
    demo = StaffDemo(CALENDAR, scale=100_000.0, origin=RECEIVED)
    demo.departments = pack_departments(POLICIES / "telecom")  # as `for_pack` sets them

    async def apply_at_once(events: Sequence[Event]) -> None:
        inbound = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
        assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, inbound) == []

    desk = CaseDesk(
        cases=rig.cases, policy=POLICY, calendar=CALENDAR, publish=apply_at_once, clock=demo.clock
    )
    queries = CaseQueries(cases=rig.cases, calendar=CALENDAR)
    staff = parse_staff_keys(demo.env()["SLA_API_KEYS"])
    app = create_case_api(desk=desk, queries=queries, staff=staff, clock=demo.clock)
    demo.start("http://sla", transport=httpx.ASGITransport(app=app))
    try:
        await demo.work(limit_s=20.0)
    finally:
        await demo.stop()

    report = demo.report
    assert (report.refused, report.unconfirmed, report.finished) == (Counter(), 0, len(PATTERN))
    scripts = [ONCE.get(s, s) if i == PATTERN.index(s) else s for i, s in enumerate(PATTERN)]
    expected = {
        "prompt": S.CLOSED,
        "reopen": S.RESOLVED,
        "awaiting": S.CLOSED,
        "extend": S.CLOSED,
        "unreachable": S.CLOSED,
        "baseless": S.CLOSED,
        "late": S.CLOSED,
        "escalated": S.RESOLVED,
        "neglected": S.CLASSIFIED,
        "withdrawn": S.WITHDRAWN,
    }
    for cid, script in zip(ids, scripts, strict=True):
        record = rig.memory.records[cid]
        assert record.case.state is expected[script], (cid, script)
        if script == "unreachable":
            assert record.case.callback_failures == 3
        if script == "baseless":
            assert record.case.verdict == "baseless"
        if script == "reopen":
            assert record.case.reopen_count == 1
        if script != "neglected":
            assert record.assignee in {f"handler-0{n}" for n in range(1, 6)}
    dispatch = {
        cid: c
        for cid, record in rig.memory.records.items()
        for c in record.clocks
        if c.clock is ClockName.DISPATCH
    }
    for cid, script in zip(ids, scripts, strict=True):
        entry = dispatch[cid]
        if script in {"late", "escalated"}:  # assigned after 4.8 / 7.3 working hours (+ spread)
            assert entry.stopped_at is not None
            assert entry.stopped_at > entry.due_at
    assert report.applied["deadline_extended"] == 1
    assert report.applied["reopened"] == 1
    assert report.applied["acknowledged"] == len(PATTERN) - PATTERN.count("neglected")


def test_the_summary_counts_breaches_and_timely_handling_per_clock() -> None:
    now = RECEIVED + timedelta(days=1)
    due = RECEIVED + timedelta(hours=4)
    tallies = {"dispatch": ClockTally(), "first_contact": ClockTally()}
    for status, stopped, fired in (
        ("met", due - timedelta(hours=1), (50,)),
        ("met", due + timedelta(hours=1), (50, 80, 100)),
        ("running", None, (50, 80, 100, 150)),
    ):
        tallies["dispatch"].add(status=status, due_at=due, stopped_at=stopped, fired=fired, now=now)
    tallies["first_contact"].add(status="met", due_at=due, stopped_at=due, fired=(50, 80), now=now)
    d = tallies["dispatch"]
    assert (d.on_time, d.late, d.overdue, d.breached, d.escalated) == (1, 1, 1, 2, 1)
    text = render_staff(
        clocks=tallies,
        states=Counter({"closed": 3, "in_progress": 1}),
        actions=Counter({"assigned": 4}),
        refused=Counter(),
        scripts=Counter({"prompt": 4}),
    )
    assert "Breaches per clock" in text
    assert " 33.3 %  (1 on time, 1 late, 1 overdue)" in text
    assert "100.0 %  (1 on time, 0 late, 0 overdue)" in text
    assert "Timely handling overall 50.0 % of 4 judged" in text
    assert "refused" not in text
