"""Deadlines at receipt: overlays, thresholds, audiences, repeats, pauses, extensions, upgrades."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain import (
    BusinessCalendar,
    ClockSpec,
    Deadline,
    SlaPolicy,
    deadlines_at_receipt,
    deadlines_on_resolution,
    extend_deadline,
    next_occurrence,
    severity_upgrade_due,
    shift_for_pause,
    start_clocks,
    target_at,
)
from tests._builders.sla import CALENDAR as CAL
from tests._builders.sla import POLICIES, POLICY

SH = ZoneInfo("Asia/Shanghai")
C, P = ClockName, Severity

moments = st.datetimes(
    # hypothesis takes naive bounds and attaches the zone itself
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 9, 30),  # noqa: DTZ001
    timezones=st.just(SH),
)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def receipt(
    received_at: datetime,
    severity: Severity,
    channel: Channel = Channel.HOTLINE,
    *,
    referral_due_at: datetime | None = None,
    flags: tuple[FlagName, ...] = (),
    policy: SlaPolicy = POLICY,
) -> dict[ClockName, Deadline]:
    deadlines = deadlines_at_receipt(
        received_at=received_at,
        severity=severity,
        channel=channel,
        referral_due_at=referral_due_at,
        flags=flags,
        policy=policy,
        calendar=CAL,
    )
    return {d.clock: d for d in deadlines}


def test_p1_clocks_on_a_working_morning() -> None:
    got = receipt(at(2026, 3, 10, 10), P.P1)
    assert set(got) == {
        C.ACKNOWLEDGE,
        C.DISPATCH,
        C.PRELIMINARY_REPLY,
        C.PROGRESS_UPDATE,
        C.RESOLUTION,
        C.OUTER_LIMIT,  # first contact starts at dispatch
    }
    assert got[C.ACKNOWLEDGE].due_at == at(2026, 3, 10, 10, 15)
    assert got[C.DISPATCH].due_at == at(2026, 3, 10, 10, 30)
    assert got[C.OUTER_LIMIT].due_at == at(2026, 3, 25, 10)  # 15 natural days
    assert got[C.PRELIMINARY_REPLY].due_at == at(2026, 3, 11, 10)
    assert got[C.PROGRESS_UPDATE].due_at == at(2026, 3, 11, 10)
    assert got[C.RESOLUTION].due_at == at(2026, 3, 17, 18)


def test_p4_received_on_friday_night_before_spring_festival() -> None:
    got = receipt(at(2026, 2, 13, 21), P.P4)
    assert got[C.ACKNOWLEDGE].due_at == at(2026, 2, 13, 22)  # natural hour: no calendar
    assert got[C.DISPATCH].due_at == at(2026, 2, 14, 13)  # Saturday 14 Feb is a makeup day
    assert got[C.RESOLUTION].due_at == at(2026, 2, 25, 18)  # 14, 24, 25 Feb
    assert C.PROGRESS_UPDATE not in got


def test_every_deadline_records_policy_and_calendar_versions() -> None:
    for deadline in receipt(at(2026, 3, 10, 10), P.P2).values():
        assert deadline.policy_version == POLICY.version
        assert deadline.calendar_version == CAL.version
        assert deadline.occurrence == 1


@settings(max_examples=60, deadline=None)
@given(received=moments, severity=st.sampled_from(list(Severity)))
def test_regulator_resolution_is_the_earlier_of_the_two(
    received: datetime, severity: Severity
) -> None:
    plain = receipt(received, severity)[C.RESOLUTION]
    regulated = receipt(received, severity, Channel.REGULATOR)
    reply = regulated[C.REGULATOR_REPLY]
    assert reply.due_at == received + timedelta(days=15)
    assert regulated[C.RESOLUTION].due_at == min(plain.due_at, reply.due_at)


def test_regulator_reply_caps_resolution_when_earlier() -> None:
    data: dict[str, Any] = yaml.safe_load((POLICIES / "telecom" / "sla.yaml").read_text())
    data["overlays"][0]["add"]["regulator_reply"] = "2d"
    short = SlaPolicy.from_mapping(data, name="telecom")
    got = receipt(at(2026, 3, 10, 10), P.P4, Channel.REGULATOR, policy=short)
    assert got[C.RESOLUTION].due_at == at(2026, 3, 12, 10)
    assert got[C.RESOLUTION].capped_by is C.REGULATOR_REPLY
    assert got[C.RESOLUTION].unit == "wd"  # still measured in its own unit


def test_referral_deadline_binds_reply_and_resolution() -> None:
    referral = at(2026, 3, 11, 12)
    got = receipt(at(2026, 3, 10, 10), P.P3, Channel.SUPERIOR, referral_due_at=referral)
    assert got[C.REGULATOR_REPLY].due_at == referral
    assert got[C.RESOLUTION].due_at == referral
    later = receipt(at(2026, 3, 10, 10), P.P3, Channel.REGULATOR, referral_due_at=at(2026, 6, 1))
    assert later[C.REGULATOR_REPLY].due_at == at(2026, 3, 25, 10)  # 15 d is earlier


@settings(max_examples=60, deadline=None)
@given(received=moments, severity=st.sampled_from(list(Severity)))
def test_thresholds_follow_the_clock_unit(received: datetime, severity: Severity) -> None:
    for deadline in receipt(received, severity).values():
        t = deadline.thresholds
        assert t[50] <= t[80] <= t[100] <= t[150]
        assert t[100] == deadline.due_at
        if deadline.unit in ("wh", "wd"):
            total = CAL.working_time_between(received, deadline.due_at)
            half = CAL.working_time_between(received, t[50])
            assert abs(half - total / 2) <= timedelta(microseconds=1)
            assert all(CAL.is_working_time(moment) for moment in t.values())
        else:
            assert abs((t[50] - received) - (deadline.due_at - received) / 2) <= timedelta(
                microseconds=1
            )
            assert t[150] - received == (deadline.due_at - received) * 3 / 2


def test_audiences_per_threshold() -> None:
    p1 = receipt(at(2026, 3, 10, 10), P.P1, flags=(FlagName.SAFETY,))[C.DISPATCH]
    assert p1.audiences[80] == (Audience.HANDLER,)
    assert set(p1.audiences[100]) == {
        Audience.HANDLER,
        Audience.TEAM_LEAD,
        Audience.LEADERSHIP,
        Audience.SECURITY,
    }
    assert p1.audiences[150] == (Audience.MANAGER,)
    p3 = receipt(at(2026, 3, 10, 10), P.P3)[C.DISPATCH]
    assert Audience.LEADERSHIP not in p3.audiences[100]


def test_callback_starts_on_resolution() -> None:
    p1 = deadlines_on_resolution(
        resolved_at=at(2026, 3, 13, 16),
        severity=P.P1,
        channel=Channel.APP,
        flags=(),
        policy=POLICY,
        calendar=CAL,
    )
    # 001 Art. 53: at the latest 3 natural days after resolution, whatever the severity ...
    assert [(d.clock, d.due_at) for d in p1] == [(C.CALLBACK, at(2026, 3, 16, 16))]
    # ... and the target is the same day, warned to the handler.
    assert target_at(p1[0], policy=POLICY) == at(2026, 3, 14, 0)
    assert Audience.HANDLER in p1[0].audiences[min(p1[0].thresholds)]
    p4 = deadlines_on_resolution(
        resolved_at=at(2026, 3, 13, 16),
        severity=P.P4,
        channel=Channel.APP,
        flags=(),
        policy=POLICY,
        calendar=CAL,
    )
    assert [(d.clock, d.due_at) for d in p4] == [(C.CALLBACK, at(2026, 3, 16, 16))]


def test_start_clocks_skips_clocks_not_run_at_that_level() -> None:
    started = start_clocks(
        clocks=[C.RESOLUTION, C.PROGRESS_UPDATE],
        started_at=at(2026, 3, 10, 10),
        severity=P.P3,
        channel=Channel.APP,
        flags=(),
        policy=POLICY,
        calendar=CAL,
    )
    assert [d.clock for d in started] == [C.RESOLUTION]


def test_progress_updates_repeat() -> None:
    first = receipt(at(2026, 3, 10, 10), P.P2)[C.PROGRESS_UPDATE]
    spec = POLICY.spec(clock=C.PROGRESS_UPDATE, severity=P.P2)
    assert spec is not None
    assert spec.repeat
    second = next_occurrence(deadline=first, spec=spec, calendar=CAL)
    assert (second.occurrence, second.started_at, second.due_at) == (
        2,
        at(2026, 3, 12, 10),
        at(2026, 3, 14, 10),
    )
    assert second.audiences == first.audiences
    early = next_occurrence(deadline=first, spec=spec, calendar=CAL, from_time=at(2026, 3, 11))
    assert early.due_at == at(2026, 3, 13)


def test_pause_shifts_working_clocks_by_working_time() -> None:
    deadline = receipt(at(2026, 3, 10, 10), P.P4)[C.RESOLUTION]  # due Fri 13 Mar 18:00
    # 50 % of 35 working hours is Thu 12 Mar 09:30; paused Thu 10:00 → Fri 10:00 (9 wh lost).
    shifted = shift_for_pause(
        deadline=deadline,
        paused_at=at(2026, 3, 12, 10),
        resumed_at=at(2026, 3, 13, 10),
        calendar=CAL,
    )
    assert shifted.due_at == at(2026, 3, 16, 18)
    assert CAL.working_time_between(deadline.due_at, shifted.due_at) == timedelta(hours=9)
    assert deadline.thresholds[80] == at(2026, 3, 13, 11)  # 28 of 35 wh
    assert shifted.thresholds[80] == at(2026, 3, 16, 11)
    assert shifted.thresholds[50] == deadline.thresholds[50]  # already behind the pause


def test_pause_shifts_natural_clocks_by_natural_time() -> None:
    deadline = receipt(at(2026, 3, 10, 10), P.P1)[C.PRELIMINARY_REPLY]
    shifted = shift_for_pause(
        deadline=deadline,
        paused_at=at(2026, 3, 10, 12),
        resumed_at=at(2026, 3, 10, 20),
        calendar=CAL,
    )
    assert shifted.due_at == deadline.due_at + timedelta(hours=8)


def test_breached_clock_is_not_moved_by_a_later_pause() -> None:
    deadline = receipt(at(2026, 3, 10, 10), P.P1)[C.ACKNOWLEDGE]
    same = shift_for_pause(
        deadline=deadline,
        paused_at=at(2026, 3, 10, 12),
        resumed_at=at(2026, 3, 10, 20),
        calendar=CAL,
    )
    assert same == deadline


def test_extension_counts_in_the_clock_unit() -> None:
    deadline = receipt(at(2026, 3, 10, 10), P.P4)[C.RESOLUTION]  # due Fri 13 Mar 18:00
    longer = extend_deadline(deadline=deadline, hours=9, calendar=CAL)
    assert longer.due_at == at(2026, 3, 16, 18)
    assert longer.thresholds[100] == longer.due_at


def test_severity_upgrades_only_move_up() -> None:
    received = at(2026, 3, 10, 10)
    assert severity_upgrade_due(received_at=received, severity=P.P4, policy=POLICY) == [
        (received + timedelta(days=7), P.P2),
        (received + timedelta(days=30), P.P1),
    ]
    assert severity_upgrade_due(received_at=received, severity=P.P2, policy=POLICY) == [
        (received + timedelta(days=30), P.P1)
    ]
    assert severity_upgrade_due(received_at=received, severity=P.P1, policy=POLICY) == []


def test_deadline_is_immutable_value() -> None:
    deadline = receipt(at(2026, 3, 10, 10), P.P4)[C.RESOLUTION]
    assert replace(deadline, occurrence=2) != deadline
    assert ClockSpec(C.RESOLUTION, 3, "wd").duration.working


def test_fallback_year_is_named_on_the_deadline() -> None:
    fresh = BusinessCalendar.load(policy_dir=POLICIES)
    got = deadlines_at_receipt(
        received_at=at(2031, 3, 10, 10),
        severity=P.P4,
        channel=Channel.HOTLINE,
        referral_due_at=None,
        flags=(),
        policy=POLICY,
        calendar=fresh,
    )
    resolution = next(d for d in got if d.clock is C.RESOLUTION)
    assert resolution.due_at == at(2031, 3, 13, 18)
    assert resolution.calendar_version.endswith("weekends-only fallback 2031")
    assert fresh.fallback_years == {2031}
    december = receipt(at(2026, 12, 30, 15), P.P4)[C.RESOLUTION]
    assert december.due_at == at(2027, 1, 5, 18)
    assert "fallback" not in december.calendar_version
    assert "cn-2027 override" in december.calendar_version
