"""Business calendar: 调休-aware working days, working-hour arithmetic, overrides and fallback."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.domain import BusinessCalendar, PolicyError

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")

# State Council notice for 2026 (国办, 2025-11-04): weekend days that are working days (调休补班).
MAKEUP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]
SPRING_FESTIVAL_2026 = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
NATIONAL_DAY_2026 = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]

moments = st.datetimes(
    # hypothesis takes naive bounds and attaches the zone itself
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 10, 31),  # noqa: DTZ001
    timezones=st.just(SH),
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=120))


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_makeup_weekend_days_are_working_days() -> None:
    for day in MAKEUP_2026:
        assert day.weekday() >= 5
        assert CAL.is_working_day(day)
        # Counting one working day from the day before lands on the makeup day itself.
        due = CAL.add_working_days(datetime.combine(day - timedelta(days=1), time(12), SH), 1)
        assert due == datetime.combine(day, time(18), SH)


def test_official_holidays_are_not_working_days() -> None:
    for day in [*SPRING_FESTIVAL_2026, *NATIONAL_DAY_2026, date(2026, 9, 25)]:
        assert not CAL.is_working_day(day), day
    assert CAL.is_working_day(date(2026, 3, 2))  # an ordinary Monday


def test_working_days_across_spring_festival_2026() -> None:
    # Fri 13 Feb; Sat 14 Feb is a makeup day, 15-23 Feb are off: 3 wd = 14, 24, 25 Feb.
    assert CAL.add_working_days(at(2026, 2, 13, 10), 3) == at(2026, 2, 25, 18)


def test_working_hours_across_spring_festival_2026() -> None:
    # One hour left on the makeup Saturday, the other three after the holiday.
    assert CAL.add_working_hours(at(2026, 2, 14, 17), 4) == at(2026, 2, 24, 12)
    assert CAL.working_time_between(at(2026, 2, 14, 17), at(2026, 2, 24, 12)) == timedelta(hours=4)


def test_working_days_across_national_day_2026() -> None:
    # 1-7 Oct off; 8, 9 Oct, Sat 10 Oct (makeup), 12, 13 Oct.
    assert CAL.add_working_days(at(2026, 9, 30, 12), 5) == at(2026, 10, 13, 18)


def test_mid_autumn_and_makeup_sunday_2026() -> None:
    # Thu 24 Sep 17:00 + 2 wh: Fri 25 Sep is Mid-autumn, the weekend is off → Mon 28 Sep 10:00.
    assert CAL.add_working_hours(at(2026, 9, 24, 17), 2) == at(2026, 9, 28, 10)
    # Received on Saturday 19 Sep: Sunday 20 Sep is a makeup working day.
    assert CAL.add_working_hours(at(2026, 9, 19, 10), 4) == at(2026, 9, 20, 13)


def test_late_december_2026_deadline_uses_the_2027_override() -> None:
    # 31 Dec counts, 1 Jan 2027 is New Year's Day (override), then the weekend: 31, 4, 5 Jan.
    assert CAL.add_working_days(at(2026, 12, 30, 15), 3) == at(2027, 1, 5, 18)
    assert not CAL.is_working_day(date(2027, 1, 1))
    assert 2027 not in CAL.fallback_years
    assert "cn-2027 override" in CAL.version
    assert 2027 in CAL.provisional_years


def test_received_outside_working_hours_starts_at_the_next_period() -> None:
    assert CAL.add_working_hours(at(2026, 3, 7, 20), 4) == at(2026, 3, 9, 13)  # Saturday night
    assert CAL.add_working_hours(at(2026, 3, 10, 22), 1) == at(2026, 3, 11, 10)  # weekday night
    assert CAL.add_working_hours(at(2026, 3, 10, 6), 1) == at(2026, 3, 10, 10)  # before opening


def test_day_of_receipt_never_counts_for_working_days() -> None:
    assert CAL.add_working_days(at(2026, 3, 9, 9), 1) == at(2026, 3, 10, 18)
    assert CAL.add_working_days(at(2026, 3, 13, 23, 59), 1) == at(2026, 3, 16, 18)


def test_unknown_year_falls_back_to_weekends_visibly(caplog: pytest.LogCaptureFixture) -> None:
    fresh = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")
    with caplog.at_level(logging.WARNING):
        assert fresh.is_working_day(date(2031, 3, 3))  # Monday
        assert not fresh.is_working_day(date(2031, 3, 8))  # Saturday
        due = fresh.add_working_days(at(2031, 10, 1, 10), 2)  # no holiday data: no crash
    assert due == at(2031, 10, 3, 18)
    assert fresh.fallback_years == {2031}
    assert sum("2031" in record.getMessage() for record in caplog.records) == 1


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_hours(datetime(2026, 3, 9, 10), 1)  # noqa: DTZ001


def test_override_replaces_the_package_year(tmp_path: Path) -> None:
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "cn-2026.yaml").write_text(
        'year: 2026\nversion: 7\nholidays: {"2026-03-09": local}\nworkdays: {}\n', encoding="utf-8"
    )
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "sla.yaml").write_text(
        "calendar: {working_hours: ['08:30-12:00', '13:00-17:30']}\n"
    )
    cal = BusinessCalendar.load(policy_dir=tmp_path, pack="p")
    assert not cal.is_working_day(date(2026, 3, 9))
    # The whole year is replaced: the package's 2026 holidays are gone unless listed again.
    assert cal.is_working_day(date(2026, 10, 8))
    assert "cn-2026 override v7" in cal.version
    assert cal.working_day_length == timedelta(hours=8)
    # Lunch break is not working time.
    assert cal.add_working_hours(at(2026, 3, 10, 11), 2) == at(2026, 3, 10, 14)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("cn-2026.yaml", "year: 2027\nversion: 1\n"),
        ("cn-2026.yaml", "year: 2026\n"),
        ("cn-2026.yaml", 'year: 2026\nversion: 1\nholidays: {"2025-01-01": x}\n'),
        (
            "cn-2026.yaml",
            'year: 2026\nversion: 1\nholidays: {"2026-05-01": a}\nworkdays: {"2026-05-01": b}\n',
        ),
        ("cn-2026.yaml", "year: 2026\nversion: 1\nstatus: maybe\n"),
    ],
)
def test_malformed_overrides_are_policy_errors(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / name).write_text(body, encoding="utf-8")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "sla.yaml").write_text("version: 1\n")
    with pytest.raises(PolicyError):
        BusinessCalendar.load(policy_dir=tmp_path, pack="p")


@settings(max_examples=150, deadline=None)
@given(start=moments, amount=spans)
def test_add_then_measure_round_trips(start: datetime, amount: timedelta) -> None:
    due = CAL.add_working_time(start, amount)
    assert CAL.working_time_between(start, due) == amount
    assert CAL.working_time_between(start, due) <= due - start


@settings(max_examples=150, deadline=None)
@given(start=moments, hours=st.floats(min_value=0.01, max_value=60, allow_nan=False))
def test_working_hour_deadlines_fall_inside_working_time(start: datetime, hours: float) -> None:
    due = CAL.add_working_hours(start, hours)
    assert due > start
    assert CAL.is_working_time(due)
    assert CAL.working_time_between(start, due) == timedelta(hours=hours)


@settings(max_examples=150, deadline=None)
@given(start=moments, days=st.integers(min_value=1, max_value=12))
def test_working_day_deadlines_end_the_nth_working_day(start: datetime, days: int) -> None:
    due = CAL.add_working_days(start, days)
    received = CAL.local(start).date()
    assert due.timetz().replace(tzinfo=None) == time(18)
    assert CAL.is_working_day(due.date())
    between = [received + timedelta(days=i) for i in range(1, (due.date() - received).days + 1)]
    assert sum(CAL.is_working_day(day) for day in between) == days


@settings(max_examples=100, deadline=None)
@given(start=moments, first=spans, second=spans)
def test_working_time_adds_up(start: datetime, first: timedelta, second: timedelta) -> None:
    middle = CAL.add_working_time(start, first)
    assert CAL.add_working_time(middle, second) == CAL.add_working_time(start, first + second)
    end = CAL.add_working_time(start, first + second)
    split = CAL.working_time_between(start, middle) + CAL.working_time_between(middle, end)
    assert split == CAL.working_time_between(start, end)
