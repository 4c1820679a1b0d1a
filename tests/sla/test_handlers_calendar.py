"""Provisional calendars (issue 18): deadlines computed on a provisional year say so, and a
`calendar_replanned` action moves open deadlines onto a changed calendar — each move announced
with its old and new due and calendar versions, and the scheduler firing at the new time."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from complaints_cli.sla_replan import override_labels, render, undeployed
from contracts import (
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    ClockName,
    LifecycleAction,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from servicekit.bodies import deliver
from sla.casework.calendar_moves import CalendarPreview, moves_of
from sla.domain import BusinessCalendar
from sla.handlers import LIFECYCLE
from sla.settings import Role
from tests._builders.sla import CALENDAR, CID, POLICY, Rig, case_api, classified

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SH = ZoneInfo("Asia/Shanghai")
# Thursday 2026-12-31 16:00: a P4's dispatch (4 wh) takes two hours that day and two on the next
# working day — Monday 2027-01-04 on the provisional 2027 override (New Year's Day off).
RECEIVED = datetime(2026, 12, 31, 16, tzinfo=SH)
OLD_DUE = datetime(2027, 1, 4, 11, tzinfo=SH)
NEW_DUE = datetime(2027, 1, 5, 11, tzinfo=SH)  # once the notice makes 01-04 a day off


@pytest.fixture
def notice(tmp_path: Path) -> Path:
    """The calendar overrides as they read once the State Council notice adds 01-04 off."""
    target = tmp_path / "calendar"
    shutil.copytree(POLICIES / "calendar", target)
    path = target / "cn-2027.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("version: 1\n", "version: 2\n").replace(
        '  "2027-01-01": New Year\'s Day\n',
        '  "2027-01-01": New Year\'s Day\n  "2027-01-04": New Year bridge day (notice)\n',
    )
    path.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
async def late_december(rig: Rig) -> Rig:
    """A P4 complaint received on New Year's Eve 2026, its clocks on the current calendar."""
    event = classified()
    data = event.data.model_copy(update={"received_at": RECEIVED})
    rig.clock.set(RECEIVED + timedelta(seconds=5))
    await rig.classified(event.model_copy(update={"data": data}))
    return rig


def replan(version: str) -> CaseActionTaken:
    at = RECEIVED + timedelta(hours=1)
    data = CaseAction(
        complaint_id=CID,
        action=LifecycleAction.CALENDAR_REPLANNED,
        action_id=f"replan-{version[-12:]}",
        actor="manager-01",
        occurred_at=at,
        calendar_version=version,
    )
    return CaseActionTaken.build(data=data, subject=CID, source="/crm", time=at, cause="x")


async def act(rig: Rig, event: CaseActionTaken) -> None:
    message = rig.inbound(event.model_dump_json().encode(), Topic.LIFECYCLE)
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, [message]) == []


async def test_a_2027_deadline_says_provisional(late_december: Rig) -> None:
    rig = late_december
    dispatch = await rig.entry("dispatch:1")
    assert dispatch.due_at == OLD_DUE
    assert dispatch.provisional
    [started] = rig.publisher.sla
    assert started.data.provisional
    views = {v.clock: v for v in started.data.deadlines}
    assert views[ClockName.DISPATCH].provisional
    # A clock that ends inside 2026 is not: acknowledge (1 h) is due the same afternoon.
    assert not views[ClockName.ACKNOWLEDGE].provisional


async def test_replan_moves_open_deadlines_and_the_scheduler_fires_at_the_new_time(
    late_december: Rig, notice: Path
) -> None:
    rig = late_december
    policy = POLICY
    calendar = BusinessCalendar.from_section(dict(policy.calendar_section), calendar_dir=notice)
    assert calendar.version != CALENDAR.version
    # The CLI refuses a calendar the service does not run yet, and accepts the one it runs.
    assert undeployed(override_labels(notice), CALENDAR.version) == ["cn-2027 override v2"]
    assert undeployed(override_labels(notice), calendar.version) == []
    # The dry run (the service's answer): the dispatch moves a day; the rest of the sheet with it
    # where it crosses 01-04.
    moves = moves_of(await rig.record(), policy=policy, calendar=calendar)
    dispatch_move = next(m for m in moves if m.key == "dispatch:1")
    assert (dispatch_move.due_at, dispatch_move.new_due_at) == (OLD_DUE, NEW_DUE)
    preview = CalendarPreview(calendar_version=calendar.version, cases=1, moves=moves)
    text = render(preview.model_dump(mode="json"))
    [line] = [row for row in text.splitlines() if "dispatch:1" in row]
    assert line.endswith("2027-01-04 11:00 → 2027-01-05 11:00  (provisional)")
    assert f"to calendar   {calendar.version}" in text
    # A service still on the old calendar refuses: nothing moves on a calendar not deployed.
    await act(rig, replan(calendar.version))
    [refused] = rig.publisher.of(CaseActionRejected)
    assert refused.data.reason == "calendar_mismatch"
    # Deployed: the service re-plans.
    rig.actions.calendar = calendar
    rig.publisher.events.clear()
    await act(rig, replan(calendar.version))
    assert (await rig.entry("dispatch:1")).due_at == NEW_DUE
    replanned = [e.data for e in rig.publisher.sla if e.data.event is SlaEventKind.REPLANNED]
    moved = next(e for e in replanned if e.clock is ClockName.DISPATCH)
    assert (moved.previous_due_at, moved.due_at) == (OLD_DUE, NEW_DUE)
    assert (moved.previous_calendar_version, moved.calendar_version) == (
        CALENDAR.version,
        calendar.version,
    )
    assert {m.key.split(":")[0] for m in moves} == {e.clock.value for e in replanned if e.clock}
    # The case log keeps the moves (republished as they are on a redelivery).
    record = await rig.cases.load(CID)
    assert record is not None
    logged = record.entry(f"replan-{calendar.version[-12:]}")
    assert logged is not None
    assert any(
        isinstance(e, SlaChanged) and e.data.previous_due_at == OLD_DUE for e in logged.events
    )
    # The scheduler: nothing at the old due, the breach at the new one.
    scheduler = rig.scheduler("a")
    rig.clock.set(OLD_DUE + timedelta(seconds=1))
    while await scheduler.run_once():
        pass
    fired = [e.data for e in rig.publisher.sla if e.data.clock is ClockName.DISPATCH]
    assert SlaEventKind.BREACHED not in {e.event for e in fired}
    rig.clock.set(NEW_DUE + timedelta(seconds=1))
    while await scheduler.run_once():
        pass
    [breach] = [
        e.data
        for e in rig.publisher.sla
        if e.data.clock is ClockName.DISPATCH and e.data.event is SlaEventKind.BREACHED
    ]
    assert breach.due_at == NEW_DUE
    # Nothing moves twice: the same calendar again finds no deadline to move.
    assert moves_of(await rig.record(), policy=policy, calendar=calendar) == []


async def test_the_case_api_answers_the_dry_run_to_a_manager_only(rig: Rig) -> None:
    async with case_api(rig) as api:
        refused = await api.get("/cases/calendar-moves", role=Role.LEAD)
        assert refused.status_code == 403, refused.text
        answer = await api.get("/cases/calendar-moves", role=Role.MANAGER)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        # The service runs the calendar its case was planned on: nothing moves.
        assert (body["calendar_version"], body["moves"], body["cases"]) == (
            CALENDAR.version,
            [],
            0,
        )
