"""What-if replay across the 2026 National Day holiday (1-7 Oct) and its makeup workday (10 Oct)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from contracts import Channel, ClockName, ClockStatus, Severity
from contracts.read_models import ClockSheetEntry
from sla.domain import BusinessCalendar, SlaPolicy
from sla.domain.whatif import (
    CaseFacts,
    PauseWindow,
    Rules,
    replay_case,
)
from sla.domain.whatif_report import WhatIfReport


def stored_clock(
    *,
    due_at: datetime | None = None,
    stopped_at: datetime | None = None,
    met: bool = False,
    paused: bool = False,
) -> ClockSheetEntry:
    """A stored first occurrence: running (paused or not), or met / cancelled at `stopped_at`."""
    if stopped_at is None:
        status = ClockStatus.RUNNING
    else:
        status = ClockStatus.MET if met else ClockStatus.CANCELLED
    return ClockSheetEntry(
        key="x:1",
        status=status,
        due_at=due_at,
        stopped_at=stopped_at,
        pause_base={"due_at": due_at} if paused else None,
    )


POLICIES = Path(__file__).resolve().parents[2] / "policies"
SH = ZoneInfo("Asia/Shanghai")
C, P = ClockName, Severity
TELECOM = Rules(
    policy=SlaPolicy.load(policy_dir=POLICIES), calendar=BusinessCalendar.load(policy_dir=POLICIES)
)
RECEIVED = datetime(2026, 9, 30, 10, tzinfo=SH)  # Wed, the last working day before the holiday
LATER = datetime(2026, 11, 30, 12, tzinfo=SH)


def at(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=SH)


def pack(tmp_path: Path, *, name: str = "candidate", **changes: Any) -> Rules:
    """The telecom pack with some sections replaced, as another pack in `tmp_path`."""
    data = yaml.safe_load((POLICIES / "telecom" / "sla.yaml").read_text(encoding="utf-8"))
    data["version"] = "2026.12.0-trial"
    for key, value in changes.items():
        if key == "clocks":
            for clock, amounts in value.items():
                data["clocks"][clock].update(amounts)
        else:
            data[key] = value
    (tmp_path / name).mkdir()
    (tmp_path / name / "sla.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return Rules(
        policy=SlaPolicy.load(policy_dir=tmp_path, pack=name),
        calendar=BusinessCalendar.load(policy_dir=tmp_path, pack=name),
    )


def p4(**clocks: ClockSheetEntry | datetime) -> CaseFacts:
    """A P4 hotline complaint received on 30 Sep; a datetime means the clock was met then."""
    records = {
        ClockName(name): v
        if isinstance(v, ClockSheetEntry)
        else stored_clock(stopped_at=v, met=True)
        for name, v in clocks.items()
    }
    return CaseFacts(
        complaint_id="c-1",
        received_at=RECEIVED,
        severity=P.P4,
        channel=Channel.HOTLINE,
        clocks=records,
        unresolved_until=records[C.RESOLUTION].stopped_at if C.RESOLUTION in records else None,
    )


def test_baseline_counts_the_makeup_workday() -> None:
    got = replay_case(p4(resolution=at(10, 10, 11)), baseline=TELECOM, candidate=TELECOM, now=LATER)
    # 3 wd after Wed 30 Sep: Thu 8, Fri 9, Sat 10 Oct (补班) — the holiday week never counts.
    assert got.baseline[C.RESOLUTION].due_at == at(10, 10, 18)
    assert got.baseline == got.candidate
    assert not got.changed


def test_shorter_resolution_clock_turns_an_on_time_resolution_into_a_breach(
    tmp_path: Path,
) -> None:
    short = pack(tmp_path, clocks={"resolution": {"P4": "2wd"}})
    got = replay_case(p4(resolution=at(10, 10, 11)), baseline=TELECOM, candidate=short, now=LATER)
    base, cand = got.baseline[C.RESOLUTION], got.candidate[C.RESOLUTION]
    assert cand.due_at == at(10, 9, 18)
    assert (base.breached, base.on_time) == (False, True)
    assert (cand.breached, cand.on_time) == (True, False)
    assert got.changed
    report = WhatIfReport(baseline=TELECOM, candidate=short, now=LATER)
    report.add(got)
    tally = report.clocks[C.RESOLUTION]
    assert (tally.breaches.baseline, tally.breaches.candidate) == (0, 1)
    assert (tally.newly_breached, tally.no_longer_breached) == (1, 0)
    assert tally.timely_rate == (1.0, 0.0)
    assert tally.examples == ["c-1"]
    assert report.examples == ["c-1"]
    assert report.clocks[C.ACKNOWLEDGE].newly_breached == 0  # a natural clock is untouched


def test_longer_resolution_clock_removes_a_breach(tmp_path: Path) -> None:
    long = pack(tmp_path, clocks={"resolution": {"P4": "5wd"}})
    got = replay_case(p4(resolution=at(10, 12, 15)), baseline=TELECOM, candidate=long, now=LATER)
    assert got.baseline[C.RESOLUTION].breached
    assert got.candidate[C.RESOLUTION].due_at == at(10, 13, 18)  # Thu, Fri, Sat, Mon, Tue
    assert not got.candidate[C.RESOLUTION].breached
    report = WhatIfReport(baseline=TELECOM, candidate=long, now=LATER)
    report.add(got)
    assert report.clocks[C.RESOLUTION].no_longer_breached == 1
    assert report.changed == 1


def test_escalation_levels_change_even_when_both_breach(tmp_path: Path) -> None:
    long = pack(tmp_path, clocks={"resolution": {"P4": "5wd"}})
    # Baseline: 35 wh; 150 % is 17.5 wh after the due time: Tue 13 Oct 17:30.
    # Candidate: 53 wh; 150 % is 26.5 wh after Tue 13 Oct 18:00: Fri 16 Oct 17:30.
    got = replay_case(p4(resolution=at(10, 14, 10)), baseline=TELECOM, candidate=long, now=LATER)
    base, cand = got.baseline[C.RESOLUTION], got.candidate[C.RESOLUTION]
    assert (base.breached, base.escalations) == (True, 1)
    assert (cand.breached, cand.escalations) == (True, 0)
    assert got.changed
    report = WhatIfReport(baseline=TELECOM, candidate=long, now=LATER)
    report.add(got)
    tally = report.clocks[C.RESOLUTION]
    assert (tally.newly_breached, tally.no_longer_breached) == (0, 0)
    assert (tally.escalations.baseline, tally.escalations.candidate) == (1, 0)


def test_pauses_shift_both_sides(tmp_path: Path) -> None:
    short = pack(tmp_path, clocks={"resolution": {"P4": "2wd"}})
    facts = p4(resolution=at(10, 10, 13))
    paused = replace(facts, pauses=(PauseWindow(at(10, 9, 10), at(10, 9, 15)),))
    without = replay_case(facts, baseline=TELECOM, candidate=short, now=LATER)
    got = replay_case(paused, baseline=TELECOM, candidate=short, now=LATER)
    # Five working hours waited on Fri 9 Oct move each due time five working hours later.
    assert got.baseline[C.RESOLUTION].due_at == at(10, 12, 14)
    assert got.candidate[C.RESOLUTION].due_at == at(10, 10, 14)
    assert without.candidate[C.RESOLUTION].breached
    assert not got.candidate[C.RESOLUTION].breached
    # Natural clocks due long before the pause stay where they were.
    assert got.baseline[C.ACKNOWLEDGE].due_at == without.baseline[C.ACKNOWLEDGE].due_at


def test_running_pause_counts_up_to_now_and_is_left_out_of_drift() -> None:
    stored_due = at(10, 10, 18) + timedelta(days=9)  # the service planned for the whole cap
    facts = replace(p4(resolution=stored_clock(due_at=stored_due)), paused_since=at(10, 9, 10))
    now = at(10, 12, 12)
    got = replay_case(facts, baseline=TELECOM, candidate=TELECOM, now=now)
    unpaused = replay_case(
        replace(facts, paused_since=None), baseline=TELECOM, candidate=TELECOM, now=now
    )
    assert unpaused.baseline[C.RESOLUTION].breached
    assert not got.baseline[C.RESOLUTION].breached  # stopped since Fri 10:00, still waiting
    assert got.baseline[C.RESOLUTION].due_at > now
    assert got.drift == 0
    assert unpaused.drift == 1


def test_pause_after_a_clock_stopped_does_not_move_it() -> None:
    stored_due = at(9, 30, 11)
    facts = p4(
        acknowledge=stored_clock(due_at=stored_due, stopped_at=at(9, 30, 10, 5), met=True),
        resolution=at(10, 10, 11),
    )
    paused = replace(facts, pauses=(PauseWindow(at(9, 30, 10, 30), at(9, 30, 12)),))
    got = replay_case(paused, baseline=TELECOM, candidate=TELECOM, now=LATER)
    assert got.baseline[C.ACKNOWLEDGE].due_at == stored_due
    # The resolution clock still ran: 1.5 working hours later, past Saturday's end into Monday.
    assert got.baseline[C.RESOLUTION].due_at == at(10, 12, 10, 30)
    assert got.drift == 0


def test_calendar_override_changes_working_day_clocks(tmp_path: Path) -> None:
    """An override for 2026 without the 10 Oct makeup workday: that Saturday no longer counts."""
    (tmp_path / "calendar").mkdir()
    holidays = {f"2026-10-0{d}": "National Day" for d in range(1, 8)}
    (tmp_path / "calendar" / "cn-2026.yaml").write_text(
        yaml.safe_dump({"year": 2026, "version": "trial", "holidays": holidays, "workdays": {}}),
        encoding="utf-8",
    )
    overridden = Rules(
        policy=TELECOM.policy,
        calendar=BusinessCalendar.from_section(
            dict(TELECOM.policy.calendar_section), calendar_dir=tmp_path / "calendar"
        ),
    )
    facts = p4(resolution=at(10, 12, 10), acknowledge=at(9, 30, 10, 30))
    got = replay_case(facts, baseline=TELECOM, candidate=overridden, now=LATER)
    assert got.candidate[C.RESOLUTION].due_at == at(10, 12, 18)  # Thu, Fri, Mon
    assert got.baseline[C.RESOLUTION].breached
    assert not got.candidate[C.RESOLUTION].breached
    assert got.baseline[C.ACKNOWLEDGE] == got.candidate[C.ACKNOWLEDGE]
    assert "cn-2026 override vtrial" in overridden.calendar.version


def test_open_clocks_are_judged_against_now() -> None:
    facts = p4(resolution=stored_clock())
    before = replay_case(facts, baseline=TELECOM, candidate=TELECOM, now=at(10, 9, 12))
    after = replay_case(facts, baseline=TELECOM, candidate=TELECOM, now=at(10, 12, 9, 30))
    assert not before.baseline[C.RESOLUTION].breached
    assert after.baseline[C.RESOLUTION].breached
    assert not after.baseline[C.RESOLUTION].on_time
    # A stop recorded after `now` has not happened yet as of `now`.
    late = p4(resolution=at(10, 9, 15))
    as_of = replay_case(late, baseline=TELECOM, candidate=TELECOM, now=at(10, 9, 12))
    assert not as_of.baseline[C.RESOLUTION].on_time
    assert not as_of.baseline[C.RESOLUTION].breached


def test_cancelled_clock_breaches_only_if_cancelled_after_its_due_time() -> None:
    early = p4(resolution=stored_clock(stopped_at=at(10, 9, 12)))
    late = p4(resolution=stored_clock(stopped_at=at(10, 12, 12)))
    got_early = replay_case(early, baseline=TELECOM, candidate=TELECOM, now=LATER)
    got_late = replay_case(late, baseline=TELECOM, candidate=TELECOM, now=LATER)
    assert not got_early.baseline[C.RESOLUTION].breached
    assert not got_early.baseline[C.RESOLUTION].on_time
    assert got_late.baseline[C.RESOLUTION].breached
    report = WhatIfReport(baseline=TELECOM, candidate=TELECOM, now=LATER)
    report.add(got_early)
    assert report.clocks[C.RESOLUTION].timely_rate == (None, None)  # nothing decided


def test_clocks_without_a_stored_record_or_in_a_pause_are_not_judged(tmp_path: Path) -> None:
    wider = pack(tmp_path, clocks={"preliminary_reply": {"P4": "24h"}})
    facts = p4(resolution=stored_clock(paused=True))
    got = replay_case(facts, baseline=TELECOM, candidate=wider, now=LATER)
    assert not got.baseline[C.RESOLUTION].judged
    assert not got.baseline[C.DISPATCH].judged  # nothing stored for it
    # A clock only the candidate runs was never kept, so when it would have been met is unknown.
    assert C.PRELIMINARY_REPLY not in got.baseline
    assert not got.candidate[C.PRELIMINARY_REPLY].judged
    assert not got.changed
    report = WhatIfReport(baseline=TELECOM, candidate=wider, now=LATER)
    report.add(got)
    tally = report.clocks[C.RESOLUTION]
    assert (tally.judged.baseline, tally.not_judged.baseline) == (0, 1)
    assert tally.breaches.baseline == 0
    extra = report.clocks[C.PRELIMINARY_REPLY]
    assert (extra.not_judged.baseline, extra.not_judged.candidate) == (0, 1)


def test_upgrades_follow_the_candidate_schedule(tmp_path: Path) -> None:
    slower = pack(tmp_path, upgrades=[{"after": "10d", "to": "P2"}, {"after": "30d", "to": "P1"}])
    facts = p4(resolution=stored_clock())
    eight_days = RECEIVED + timedelta(days=8)
    got = replay_case(facts, baseline=TELECOM, candidate=slower, now=eight_days)
    assert got.upgrades == (frozenset({P.P2}), frozenset())
    resolved = p4(resolution=at(10, 6, 9))
    assert replay_case(resolved, baseline=TELECOM, candidate=slower, now=LATER).upgrades == (
        frozenset(),
        frozenset(),
    )
    report = WhatIfReport(baseline=TELECOM, candidate=slower, now=eight_days)
    report.add(got)
    tally = report.upgrades[P.P2]
    assert (tally.reached.baseline, tally.reached.candidate, tally.no_longer) == (1, 0, 1)


@pytest.mark.parametrize(
    ("stored", "drift"),
    [
        (at(10, 10, 18), 0),
        (at(10, 10, 18) + timedelta(milliseconds=400), 0),
        (at(10, 9, 18), 1),  # made under an older policy or calendar
    ],
)
def test_stored_due_times_are_compared_with_the_fresh_baseline(
    stored: datetime, drift: int
) -> None:
    facts = p4(resolution=stored_clock(due_at=stored, stopped_at=at(10, 9, 11), met=True))
    got = replay_case(facts, baseline=TELECOM, candidate=TELECOM, now=LATER)
    assert got.drift == drift


def test_stored_upgrade_and_unknown_clock_count_as_drift() -> None:
    facts = replace(
        p4(resolution=at(10, 9, 11)),
        clocks={
            C.RESOLUTION: stored_clock(due_at=at(10, 10, 18), stopped_at=at(10, 9, 11)),
            C.PRELIMINARY_REPLY: stored_clock(due_at=at(10, 1, 10)),  # P4 runs no such clock
            C.PROGRESS_UPDATE: stored_clock(due_at=at(10, 1, 10)),  # left out: never counted
        },
        stored_upgrades={P.P2: RECEIVED + timedelta(days=5), P.P1: RECEIVED + timedelta(30)},
    )
    got = replay_case(facts, baseline=TELECOM, candidate=TELECOM, now=LATER)
    assert got.drift == 2
    report = WhatIfReport(baseline=TELECOM, candidate=TELECOM, now=LATER)
    report.add(got)
    assert (report.drifted_clocks, report.drifted_cases) == (2, 1)
    assert C.PROGRESS_UPDATE not in got.baseline


def test_report_keeps_a_few_examples_and_counts_every_case(tmp_path: Path) -> None:
    short = pack(tmp_path, clocks={"resolution": {"P4": "2wd"}})
    report = WhatIfReport(baseline=TELECOM, candidate=short, now=LATER)
    for n in range(8):
        report.replay(replace(p4(resolution=at(10, 10, 11)), complaint_id=f"c-{n}"))
    report.replay(replace(p4(resolution=at(10, 8, 11)), complaint_id="same"))
    assert report.cases == 9
    assert report.changed == 8
    assert report.examples == ["c-0", "c-1", "c-2", "c-3", "c-4"]
    assert report.clocks[C.RESOLUTION].newly_breached == 8
    assert report.clocks[C.RESOLUTION].timely_rate == (1.0, 1 / 9)
