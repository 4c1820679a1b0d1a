"""What the calendar and the policy compute once (issue 15: a case's start is mostly these
answers): cached answers equal computed ones, and a changed calendar or policy answers anew."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla.domain.calendar as calendar_module
from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.casework.start import SHANGHAI_DISPLAY, display
from sla.domain import BusinessCalendar, SlaPolicy, deadlines_at_receipt

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 3, 9)  # an ordinary working Monday in the package's 2026 data
POLICY = SlaPolicy.load(policy_dir=POLICIES, pack="telecom")
WARM = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")


def _with_monday_off(tmp_path: Path) -> BusinessCalendar:
    """The same pack once a 2026 override makes MONDAY a holiday (a calendar change)."""
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "cn-2026.yaml").write_text(
        f'year: 2026\nversion: 8\nholidays: {{"{MONDAY}": local}}\nworkdays: {{}}\n',
        encoding="utf-8",
    )
    (tmp_path / "telecom").mkdir()
    (tmp_path / "telecom" / "sla.yaml").write_text(
        (POLICIES / "telecom" / "sla.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return BusinessCalendar.load(policy_dir=tmp_path, pack="telecom")


def test_a_changed_calendar_answers_from_its_own_data_not_the_old_ones_cache(
    tmp_path: Path,
) -> None:
    friday = datetime(2026, 3, 6, 17, tzinfo=SH)
    assert WARM.periods(MONDAY)  # cached as a working day
    assert WARM.add_working_hours(friday, 2) == datetime(2026, 3, 9, 10, tzinfo=SH)
    changed = _with_monday_off(tmp_path)
    assert changed.periods(MONDAY) == []
    assert changed.add_working_hours(friday, 2) == datetime(2026, 3, 10, 10, tzinfo=SH)
    assert changed.add_working_days(friday, 1) == datetime(2026, 3, 10, 18, tzinfo=SH)
    # The running calendar keeps its answers until the service runs the new one (ADR 0012).
    assert WARM.periods(MONDAY)
    assert WARM.add_working_days(friday, 1) == datetime(2026, 3, 9, 18, tzinfo=SH)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 12, 1),  # noqa: DTZ001
        max_value=datetime(2027, 2, 1),  # noqa: DTZ001
        timezones=st.just(SH),
    ),
    hours=st.floats(min_value=0, max_value=200),
)
def test_cached_days_answer_as_a_fresh_calendar_does(start: datetime, hours: float) -> None:
    fresh = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")
    due = WARM.add_working_hours(start, hours)
    assert due == fresh.add_working_hours(start, hours)
    assert WARM.working_time_between(start, due) == fresh.working_time_between(start, due)
    assert WARM.add_working_days(start, 3) == fresh.add_working_days(start, 3)


def test_a_full_day_cache_is_emptied_and_the_answers_stay_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calendar_module, "_MAX_CACHED_DAYS", 3)
    small = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")
    start = datetime(2026, 9, 28, 10, tzinfo=SH)  # the week before National Day
    assert small.add_working_days(start, 5) == WARM.add_working_days(start, 5)
    assert len(small._periods) <= 3
    assert small.add_working_days(start, 5) == datetime(2026, 10, 10, 18, tzinfo=SH)  # 补班


def test_deadlines_at_receipt_are_the_same_on_a_warm_and_a_fresh_calendar() -> None:
    base = datetime(2026, 9, 30, 16, 59, tzinfo=SH)
    for minutes in range(0, 60 * 24 * 9, 97):
        received = base + timedelta(minutes=minutes)
        fresh = BusinessCalendar.load(policy_dir=POLICIES, pack="telecom")
        for severity in Severity:
            args = {
                "received_at": received,
                "severity": severity,
                "channel": Channel.REGULATOR,
                "referral_due_at": None,
                "flags": [],
                "policy": POLICY,
            }
            assert deadlines_at_receipt(**args, calendar=WARM) == deadlines_at_receipt(
                **args, calendar=fresh
            )


def test_a_policys_answers_are_fresh_copies_a_caller_may_change() -> None:
    first = POLICY.audiences(clock=ClockName.RESOLUTION, severity=Severity.P1, flags=[])
    first[1] = (Audience.HANDLER,)  # what build_deadline does with a target threshold
    again = POLICY.audiences(clock=ClockName.RESOLUTION, severity=Severity.P1, flags=[])
    assert 1 not in again
    specs = POLICY.clocks_for(severity=Severity.P2, channel=Channel.HOTLINE)
    specs.clear()
    assert POLICY.clocks_for(severity=Severity.P2, channel=Channel.HOTLINE)


def test_a_changed_policy_starts_with_no_answers() -> None:
    warned = POLICY.audiences(
        clock=ClockName.RESOLUTION, severity=Severity.P1, flags=[FlagName.VIP]
    )
    quieter = replace(POLICY, escalation=())  # another pack version: nobody told
    assert quieter.audiences(
        clock=ClockName.RESOLUTION, severity=Severity.P1, flags=[FlagName.VIP]
    ) == dict.fromkeys(quieter.thresholds, ())
    assert any(warned.values())


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(  # hypothesis wants naive bounds; the zone is the calendar's, set below
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001
        max_value=datetime(2090, 12, 31),  # noqa: DTZ001
    )
)
def test_the_fast_paths_answer_as_the_general_ones(moment: datetime) -> None:
    """A local moment passes `local` unchanged, `add_natural` skips it, the version between two
    years is kept per pair, and the set event's local due is `strftime`'s text (issue 15)."""
    local = moment.replace(tzinfo=WARM.tz)
    utc = local.astimezone(ZoneInfo("UTC"))
    assert WARM.local(local) is local
    assert WARM.local(utc) == local
    assert WARM.local(utc).tzinfo is WARM.tz
    later = utc + timedelta(days=400)
    first = WARM.version_between(utc, later)  # computed, or from the pair cache on a repeat
    assert WARM.version_between(local, later) == first
    missing = [y for y in range(local.year, WARM.local(later).year + 1) if not WARM.covers(y)]
    assert (first == WARM.version) is (not missing)
    assert all(str(year) in first for year in missing)
    step = timedelta(hours=7, seconds=1)
    assert WARM.add_natural(utc, step) == (utc + step).astimezone(WARM.tz)
    assert WARM.add_natural(utc, step).tzinfo is WARM.tz
    assert display(local) == local.strftime(SHANGHAI_DISPLAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        WARM.add_natural(moment, step)
