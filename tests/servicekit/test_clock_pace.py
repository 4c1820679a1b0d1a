"""The demo's paced clock: business time piecewise linear in real time, shared by a plan."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicekit.clock import (
    Pace,
    ScaledClock,
    clock_from_settings,
    held,
    parse_anchor_file,
    parse_plan,
    write_anchor_file,
)
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


def test_business_time_stands_still_during_a_hold_written_to_the_anchor_file(
    tmp_path: Path,
) -> None:
    anchor_file = tmp_path / "anchor"
    real_now = datetime.now(UTC)
    anchor = real_now - timedelta(seconds=10)
    # Held from 8 s to 6 s ago (2 s), and again from 1 s ago on (still holding).
    holds = [
        (real_now - timedelta(seconds=8), real_now - timedelta(seconds=6)),
        (real_now - timedelta(seconds=1), None),
    ]
    write_anchor_file(anchor_file, anchor, holds)
    clock = clock_from_settings(
        scale=540.0, origin=ORIGIN.isoformat(), anchor_file=str(anchor_file)
    )
    standing = clock.now()  # 10 s after the anchor, 3 s of them held: 7 s of business
    assert abs((standing - (ORIGIN + timedelta(seconds=7 * 540))).total_seconds()) < 540 * 0.1
    time.sleep(0.15)
    assert clock.now() == standing  # still held
    assert clock.real_seconds_until(standing + timedelta(seconds=540)) == pytest.approx(1.0)
    write_anchor_file(anchor_file, anchor, [holds[0], (holds[1][0], datetime.now(UTC))])
    time.sleep(0.15)  # the clock looks at the file every 0.1 s
    moved = clock.now()
    assert standing < moved < standing + timedelta(seconds=0.3 * 540)


def test_a_hold_read_late_never_turns_business_time_back(tmp_path: Path) -> None:
    anchor_file = tmp_path / "anchor"
    anchor = datetime.now(UTC) - timedelta(seconds=10)
    write_anchor_file(anchor_file, anchor)
    clock = clock_from_settings(
        scale=540.0, origin=ORIGIN.isoformat(), anchor_file=str(anchor_file)
    )
    before = clock.now()
    # A hold that began 5 s ago, read only now: this process ran 5 s ahead of the others.
    write_anchor_file(anchor_file, anchor, [(datetime.now(UTC) - timedelta(seconds=5), None)])
    time.sleep(0.15)
    after = clock.now()
    assert after >= before  # it stands where it was, it does not go back 45 business minutes
    assert after - before < timedelta(seconds=0.3 * 540)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hold 2026-12-07T01:00:00+00:00",
        "2026-12-07T01:00:00+00:00\nwait 2026-12-07T01:00:01+00:00",
        "2026-12-07T01:00:00+00:00\nhold 2026-12-07T01:00:05+00:00 2026-12-07T01:00:01+00:00",
        "2026-12-07T01:00:00",
    ],
)
def test_a_malformed_anchor_file_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_anchor_file(text)


def test_an_anchor_file_round_trips_with_its_holds(tmp_path: Path) -> None:
    anchor = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    holds = [(anchor + timedelta(seconds=3), anchor + timedelta(seconds=4)), (anchor, None)]
    write_anchor_file(tmp_path / "a", anchor, holds)
    assert parse_anchor_file((tmp_path / "a").read_text()) == (anchor, tuple(holds))
    assert held(holds, anchor + timedelta(seconds=10)) == pytest.approx(11.0)
