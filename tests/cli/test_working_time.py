"""The demo staff's working time (`complaints_cli.working_time`) agrees with the SLA's calendar.

One contract over both: the CLI counts over the periods `python -m sla.tools.calendar` prints, the
SLA over its `BusinessCalendar`; every answer the staff demo asks for must be the same, at period
ends, over nights, weekends, the National Day week and 调休 makeup Saturdays.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from complaints_cli.working_time import CalendarWindowError, WorkingCalendar, fetch
from contracts.calendar import WorkingPeriods
from sla.domain import BusinessCalendar
from sla.tools.calendar import working_periods
from tests._builders.sla import CALENDAR, POLICIES

SH = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 9, 14)
DAYS = 60  # to mid-November: National Day (1-8 Oct) and the makeup Saturday 10 Oct inside


@pytest.fixture(scope="module")
def counted() -> WorkingCalendar:
    """The CLI's calendar over the stretch the SLA's tool function gives."""
    return WorkingCalendar(working_periods(CALENDAR, FIRST, DAYS))


def moments(n: int, seed: int = 7) -> list[datetime]:
    """Random moments in the stretch's first 40 days, half of them on a period boundary."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        day = FIRST + timedelta(days=rng.randrange(40))
        if rng.random() < 0.5:
            hh, mm = rng.choice([(9, 0), (18, 0), (12, 0), (13, 30), (0, 0), (23, 59)])
        else:
            hh, mm = rng.randrange(24), rng.randrange(60)
        out.append(datetime(day.year, day.month, day.day, hh, mm, tzinfo=SH))
    return out


def test_working_days_and_periods_are_the_calendars(counted: WorkingCalendar) -> None:
    for n in range(DAYS):
        day = FIRST + timedelta(days=n)
        assert counted.is_working_day(day) == CALENDAR.is_working_day(day), day
        assert counted.periods(day) == CALENDAR.periods(day), day
    assert not counted.is_working_day(date(2026, 10, 5))  # National Day week
    assert counted.is_working_day(date(2026, 10, 10))  # Saturday, worked instead (调休)


@pytest.mark.parametrize("hours", [0, 0.25, 1, 4.5, 9, 9.5, 27, 80])
def test_adding_working_time_lands_where_the_calendar_does(
    counted: WorkingCalendar, hours: float
) -> None:
    for start in moments(150, seed=int(hours * 100)):
        got, want = (
            counted.add_working_hours(start, hours),
            CALENDAR.add_working_hours(start, hours),
        )
        assert got == want, (start, hours)
        assert got.utcoffset() == want.utcoffset()


def test_working_time_between_is_the_calendars(counted: WorkingCalendar) -> None:
    starts, ends = moments(300, seed=1), moments(300, seed=2)
    for start, end in zip(starts, ends, strict=True):
        got = counted.working_time_between(start, end)
        assert got == CALENDAR.working_time_between(start, end), (start, end)


def test_the_edges_of_a_period(counted: WorkingCalendar) -> None:
    friday_close = datetime(2026, 10, 16, 18, tzinfo=SH)
    assert counted.add_working_hours(friday_close, 0) == friday_close  # nothing added: stays
    monday = datetime(2026, 10, 19, 9, tzinfo=SH)
    assert counted.add_working_hours(friday_close, 0.5) == monday + timedelta(minutes=30)
    assert counted.add_working_hours(datetime(2026, 10, 17, 3, tzinfo=SH), 0) == monday
    with pytest.raises(ValueError, match="negative"):
        counted.add_working_time(monday, timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        counted.local(datetime(2026, 9, 21, 9))  # noqa: DTZ001 - the refusal under test


def test_a_question_outside_the_fetched_days_is_an_error(counted: WorkingCalendar) -> None:
    with pytest.raises(CalendarWindowError, match="outside the calendar fetched"):
        counted.is_working_day(FIRST - timedelta(days=1))
    with pytest.raises(CalendarWindowError):
        counted.working_time_between(
            datetime(2026, 10, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH)
        )
    with pytest.raises(CalendarWindowError, match="past the fetch"):
        counted.add_working_hours(datetime(2026, 11, 1, tzinfo=SH), 9 * 40)


def test_the_contract_refuses_periods_out_of_order() -> None:
    nine, six = datetime(2026, 9, 14, 9, tzinfo=SH), datetime(2026, 9, 14, 18, tzinfo=SH)
    fields = {"timezone": "Asia/Shanghai", "version": "v", "first_day": FIRST}
    WorkingPeriods(**fields, last_day=FIRST, periods=((nine, six),))
    with pytest.raises(ValidationError, match="overlap"):
        WorkingPeriods(**fields, last_day=FIRST, periods=((nine, six), (nine, six)))
    with pytest.raises(ValidationError, match="ends before it starts"):
        WorkingPeriods(**fields, last_day=FIRST, periods=((six, nine),))
    with pytest.raises(ValidationError, match="before first_day"):
        WorkingPeriods(**fields, last_day=FIRST - timedelta(days=1), periods=())


def test_fetch_runs_the_sla_tool_as_a_process() -> None:
    bank = fetch(POLICIES, "bank", around=date(2026, 10, 12))
    direct = BusinessCalendar.load(policy_dir=POLICIES, pack="bank")
    assert bank.version == direct.version
    for day in (date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12), date(2026, 12, 10)):
        assert bank.periods(day) == direct.periods(day)
    assert bank.is_working_day(date(2026, 9, 21))  # 21 days back: the week before the holiday
    with pytest.raises(ValueError, match=r"the SLA.s calendar tool failed: .*no-such-pack"):
        fetch(POLICIES, "no-such-pack", around=date(2026, 10, 12))
