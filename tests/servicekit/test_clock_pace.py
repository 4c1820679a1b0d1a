"""The demo's paced clock: business time piecewise linear in real time, shared by a plan."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicekit.clock import Pace, ScaledClock, clock_from_settings, parse_plan
from servicekit.timer import DueLoop

ORIGIN = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
EVENING = ORIGIN + timedelta(hours=9)
MORNING = ORIGIN + timedelta(hours=24)
PLAN = [(EVENING, 27_000.0), (MORNING, 540.0)]


def test_business_time_follows_each_piece_of_the_plan() -> None:
    pace = Pace(ORIGIN, 540.0, PLAN)
    day = 9 * 3600 / 540  # 60 real seconds for the working day
    night = 15 * 3600 / 27_000  # 2 real seconds for the night
    assert pace.business(0) == ORIGIN
    assert pace.business(day) == EVENING
    assert pace.business(day + night) == MORNING
    assert pace.business(day + night + 1) == MORNING + timedelta(seconds=540)
    assert pace.business(-1) == ORIGIN - timedelta(seconds=540)


@pytest.mark.parametrize("hours", [0.0, 3.5, 9.0, 12.0, 24.0, 30.0])
def test_real_and_business_are_inverse(hours: float) -> None:
    pace = Pace(ORIGIN, 540.0, PLAN)
    when = ORIGIN + timedelta(hours=hours)
    assert abs((pace.business(pace.real(when)) - when).total_seconds()) < 1e-3


def test_a_change_at_or_before_the_origin_sets_the_first_pace() -> None:
    pace = Pace(ORIGIN, 540.0, [(ORIGIN - timedelta(hours=1), 27_000.0), (EVENING, 540.0)])
    assert pace.business(1) == ORIGIN + timedelta(seconds=27_000)


def test_processes_given_the_same_plan_agree_and_the_due_loop_naps_by_it() -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=61)  # a second into the fast night
    raw = '[["' + EVENING.isoformat() + '", 27000], ["' + MORNING.isoformat() + '", 540]]'
    clocks = [
        clock_from_settings(
            scale=540.0, origin=ORIGIN.isoformat(), anchor=anchor.isoformat(), plan=raw
        )
        for _ in range(2)
    ]
    assert isinstance(clocks[0], ScaledClock)
    assert abs((clocks[0].now() - clocks[1].now()).total_seconds()) < 60  # 2 ms of real time
    assert EVENING < clocks[0].now() < MORNING
    # The next morning is about one real second away, not the 108 s the day's pace would say.
    assert clocks[0].real_seconds_until(MORNING) == pytest.approx(1.0, abs=0.1)
    loop = DueLoop(name="t", clock=clocks[0], max_sleep=5.0, min_sleep=0.05, time_scale=540.0)
    assert loop.delay(MORNING) == pytest.approx(1.0, abs=0.1)
    assert parse_plan(raw) == PLAN
    assert parse_plan(None) == []


def test_time_stands_at_the_origin_until_the_anchor_file_is_written(tmp_path: Path) -> None:
    anchor_file = tmp_path / "anchor"
    clock = clock_from_settings(
        scale=540.0, origin=ORIGIN.isoformat(), anchor_file=str(anchor_file)
    )
    assert clock.now() == ORIGIN
    anchor_file.write_text((datetime.now(UTC) - timedelta(seconds=10)).isoformat())
    time.sleep(0.15)  # the clock looks for the file every 0.1 s
    assert ORIGIN + timedelta(seconds=5000) < clock.now() < ORIGIN + timedelta(seconds=6000)
