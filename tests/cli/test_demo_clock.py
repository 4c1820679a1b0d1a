"""The demo's pace plan (fast nights and weekends), the scripts' timing, and how a run is judged."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from complaints_cli.demo_clock import OFF_S, opening, pace_plan, plan_json
from complaints_cli.staff_outcome import brief, judge
from complaints_cli.staff_script import SHANGHAI, Assignment, dispatch_clock, timeline
from servicekit.clock import Pace, parse_plan
from tests._builders.sla import CALENDAR

FRIDAY = datetime(2026, 12, 4, 8, 45, tzinfo=SHANGHAI)
SCALE = 540.0


def test_working_days_run_at_the_demo_pace_and_the_weekend_passes_in_seconds() -> None:
    plan = pace_plan(CALENDAR, FRIDAY, scale=SCALE)
    pace = Pace(FRIDAY, SCALE, plan)
    friday_open = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
    friday_close = datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)
    monday_open = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    monday_close = datetime(2026, 12, 7, 18, 0, tzinfo=SHANGHAI)
    assert opening(CALENDAR, FRIDAY) == friday_open
    assert pace.real(friday_close) - pace.real(friday_open) == pytest.approx(60.0)
    assert pace.real(monday_open) - pace.real(friday_close) == pytest.approx(OFF_S)
    assert pace.real(monday_close) - pace.real(monday_open) == pytest.approx(60.0)
    assert parse_plan(plan_json(plan)) == plan


def test_a_step_due_in_the_night_comes_at_its_own_time_within_the_fast_stretch() -> None:
    pace = Pace(FRIDAY, SCALE, pace_plan(CALENDAR, FRIDAY, scale=SCALE))
    friday_close = datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)
    saturday_noon = datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI)
    between = pace.real(saturday_noon) - pace.real(friday_close)
    assert 0 < between < OFF_S  # in order, and within the two real seconds of the weekend


@pytest.mark.parametrize(
    ("severity", "due", "escalation"),
    [
        ("P1", timedelta(minutes=30), timedelta(minutes=45)),
        ("P2", timedelta(hours=1), timedelta(hours=1.5)),
        ("P3", None, None),
        ("P4", None, None),
    ],
)
@pytest.mark.parametrize("n", range(12))
def test_late_scripts_breach_and_escalate_as_scripted_at_every_pace(
    severity: str, due: timedelta | None, escalation: timedelta | None, n: int
) -> None:
    received = datetime(2026, 12, 4, 9, 30, tzinfo=SHANGHAI)
    due_at = received + due if due else CALENDAR.add_working_hours(received, 4.0)
    escalates_at = received + escalation if escalation else CALENDAR.add_working_hours(received, 6)
    cid = f"CP20261204-{n:010d}"

    def assigned(script: str) -> datetime:
        planned = timeline(Assignment(cid, script, severity, received, "h", "b"), CALENDAR)
        return next(at for at, step in planned if step.action == "assigned")

    assert due_at < assigned("late") < escalates_at
    assert assigned("escalated") > escalates_at


@pytest.mark.parametrize(
    ("severity", "due", "escalation"),
    [
        ("P1", timedelta(minutes=30), timedelta(minutes=45)),
        ("P2", timedelta(hours=1), timedelta(hours=1.5)),
        ("P4", None, None),
    ],
)
@pytest.mark.parametrize("acknowledged", [True, False])
def test_with_the_cases_own_clock_a_late_dispatch_lands_past_the_breach_far_from_escalation(
    severity: str, due: timedelta | None, escalation: timedelta | None, acknowledged: bool
) -> None:
    received = datetime(2026, 12, 4, 11, 40, tzinfo=SHANGHAI)  # P4: the window spans the night
    due_at = received + due if due else CALENDAR.add_working_hours(received, 4.0)
    escalates_at = received + escalation if escalation else CALENDAR.add_working_hours(received, 6)
    clock = (received, due_at)
    for n in range(12):
        case = Assignment(f"CP20261204-{n:010d}", "late", severity, received, "h", "b")
        case = replace(case, acknowledged=acknowledged, dispatch=clock)
        at = next(at for at, step in timeline(case, CALENDAR) if step.action == "assigned")
        # A tenth of the span past the breach, four tenths before the escalation, whatever the
        # spread and the pace table say.
        to_breach, to_escalation = at - due_at, escalates_at - at
        if severity == "P4":
            to_breach = CALENDAR.working_time_between(due_at, at)
            to_escalation = CALENDAR.working_time_between(at, escalates_at)
        assert to_escalation == pytest.approx(4 * to_breach, abs=timedelta(seconds=1))
        assert to_breach > timedelta(0)


def test_the_dispatch_clock_is_read_from_the_case_view() -> None:
    view = {
        "clocks": [
            {"clock": "acknowledge", "occurrence": 1, "started_at": "2026-12-04T09:00:00+08:00"},
            {
                "clock": "dispatch",
                "occurrence": 1,
                "started_at": "2026-12-04T09:00:00+08:00",
                "due_at": "2026-12-04T13:00:00+08:00",
            },
        ]
    }
    assert dispatch_clock(view) == (
        datetime(2026, 12, 4, 9, tzinfo=SHANGHAI),
        datetime(2026, 12, 4, 13, tzinfo=SHANGHAI),
    )
    assert dispatch_clock({"complaint_id": "x"}) is None  # a list row: the pace table decides


def row(cid: str, clock: str, outcome: str = "", fired: tuple[int, ...] = ()) -> dict[str, object]:
    return {
        "complaint_id": cid,
        "clock": clock,
        "occurrence": 1,
        "outcome": outcome,
        "fired": fired,
    }


def test_a_run_is_judged_per_prompt_clock_and_per_late_script() -> None:
    scripts = {"a": "prompt", "b": "prompt", "c": "late", "d": "neglected", "e": "escalated"}
    rows = [
        row("a", "first_contact", "on_time"),
        row("b", "first_contact", "late"),
        row("a", "dispatch", "on_time"),
        row("c", "dispatch", "late", (50, 80, 100)),
        row("d", "dispatch", "overdue", (50, 80, 100)),  # its escalation has not come yet
        row("e", "dispatch", "late", (50, 80, 100, 150)),
    ]
    outcome = judge(rows, scripts)
    assert (outcome.prompt["first_contact"].good, outcome.prompt["first_contact"].judged) == (1, 2)
    assert outcome.prompt["dispatch"].text() == "1/1 (100.0 %)"
    assert outcome.awaited == 1
    rows[4] = row("d", "dispatch", "overdue", (50, 80, 100, 150))
    rows[3] = row(
        "c", "dispatch", "late", (50, 80, 100, 150)
    )  # late, but escalated: not as scripted
    outcome = judge(rows, scripts)
    assert outcome.awaited == 0
    table = dict(brief(outcome))
    assert table["late: dispatch breached, not escalated"] == (
        "expected 1, got 0/1 (0.0 %); 1 dispatch escalated"
    )
    assert table["neglected: dispatch escalated"] == "expected 1, got 1/1 (100.0 %)"
    assert table["prompt: first contact on time"] == "expected 2, got 1/2 (50.0 %)"
    assert outcome.scripted["neglected"].text() == "1/1 (100.0 %)"
