"""Re-planning keeps what does not depend on what changed (issue 18, ADR 0012): a severity re-plan
leaves the regulator's reply (an overlay's clock) running and still capping the resolution; a
clock paused for the customer stays paused, planned again to the pause's cap end; an approved
extension stays — on a severity re-plan and on a calendar re-plan alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from contracts import Channel, ClockName, Severity
from sla.clocks.replan import Keys, PauseWindow, calendar_moves, replan_for_severity
from sla.clocks.sheet import ClockEntry, as_deadline, entry_of, with_plan
from sla.domain import (
    build_deadline,
    deadlines_at_receipt,
    extend_deadline,
    shift_for_pause,
)
from tests._builders.sla import CALENDAR, POLICY

SH = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 24, 9, 30, tzinfo=SH)  # a Tuesday morning
PAUSED_AT = RECEIVED + timedelta(hours=3)
CAP_END = datetime(2026, 12, 1, 12, 30, tzinfo=SH)  # the 5 wd cap counted from PAUSED_AT
NOW = PAUSED_AT + timedelta(hours=1)


def sheet(severity: Severity, channel: Channel = Channel.HOTLINE) -> tuple[ClockEntry, ...]:
    """The receipt clocks of a complaint, as the service starts them."""
    return tuple(
        entry_of(d, severity.value)
        for d in deadlines_at_receipt(
            received_at=RECEIVED,
            severity=severity,
            channel=channel,
            referral_due_at=None,
            flags=[],
            policy=POLICY,
            calendar=CALENDAR,
        )
    )


def of(entries: tuple[ClockEntry, ...], clock: ClockName) -> ClockEntry:
    [found] = [e for e in entries if e.clock is clock]
    return found


def fresh(clock: ClockName, severity: Severity) -> ClockEntry:
    """The clock planned from receipt on `severity`, nothing else applied."""
    spec = POLICY.spec(clock=clock, severity=severity)
    assert spec is not None
    plan = build_deadline(
        spec=spec,
        started_at=RECEIVED,
        severity=severity,
        flags=[],
        policy=POLICY,
        calendar=CALENDAR,
    )
    return entry_of(plan, severity.value)


def paused(entry: ClockEntry) -> ClockEntry:
    """`entry` as a pause from PAUSED_AT plans it: to the cap end, its plan kept for the resume."""
    moved = shift_for_pause(
        deadline=as_deadline(entry), paused_at=PAUSED_AT, resumed_at=CAP_END, calendar=CALENDAR
    )
    return replace(with_plan(entry, moved), pause_base=(entry.due_at, entry.thresholds))


def extended(entry: ClockEntry, hours: float) -> ClockEntry:
    plan = extend_deadline(deadline=as_deadline(entry), hours=hours, calendar=CALENDAR)
    return replace(with_plan(entry, plan), extended_hours=entry.extended_hours + hours)


def upgrade(
    entries: tuple[ClockEntry, ...],
    channel: Channel = Channel.HOTLINE,
    pause: PauseWindow = None,
) -> tuple[ClockEntry, ...]:
    """The sheet re-planned on P2 (an upgrade or a regrade)."""
    return replan_for_severity(
        entries,
        severity=Severity.P2,
        channel=channel,
        flags=[],
        now=NOW,
        policy=POLICY,
        calendar=CALENDAR,
        keys=Keys(),
        pause=pause,
    )


def test_a_severity_re_plan_keeps_the_regulator_reply_and_its_cap() -> None:
    before = sheet(Severity.P4, Channel.REGULATOR)
    reply = of(before, ClockName.REGULATOR_REPLY)
    after = upgrade(before, Channel.REGULATOR)
    kept = of(after, ClockName.REGULATOR_REPLY)
    assert kept.running, "the overlay's clock does not depend on severity"
    assert kept.due_at == reply.due_at
    assert of(after, ClockName.RESOLUTION).due_at <= kept.due_at


def test_a_paused_clock_stays_paused_with_its_plan_on_the_new_severity() -> None:
    # P3's resolution is 5 wd, P2's 3 wd: the upgrade shortens it while the customer is awaited.
    resolution = paused(of(sheet(Severity.P3), ClockName.RESOLUTION))
    others = [e for e in sheet(Severity.P3) if e.clock is not ClockName.RESOLUTION]
    after = of(upgrade((*others, resolution), pause=(PAUSED_AT, CAP_END)), ClockName.RESOLUTION)
    want = paused(fresh(ClockName.RESOLUTION, Severity.P2))
    assert after.severity == "P2"
    assert after.pause_base is not None, "still paused: the resume shifts from its new plan"
    assert want.pause_base is not None
    assert after.pause_base[0] == want.pause_base[0]
    assert after.due_at == want.due_at != resolution.due_at


def test_an_approved_extension_survives_a_severity_re_plan() -> None:
    before = sheet(Severity.P4)
    resolution = extended(of(before, ClockName.RESOLUTION), 8)
    after = of(upgrade((*before, resolution)), ClockName.RESOLUTION)
    want = extended(fresh(ClockName.RESOLUTION, Severity.P2), 8)
    assert after.due_at == want.due_at
    assert after.due_at > fresh(ClockName.RESOLUTION, Severity.P2).due_at
    assert after.extended_hours == 8


def test_a_calendar_re_plan_keeps_extensions_and_moves_paused_clocks_paused() -> None:
    entries = sheet(Severity.P4)
    resolution = paused(extended(of(entries, ClockName.RESOLUTION), 8))
    # Planned on another calendar version: everything re-plans on CALENDAR, nothing should move.
    stale = replace(resolution, calendar_version="old calendar")
    moves = calendar_moves(
        (stale,),
        severity=Severity.P4,
        flags=[],
        keys=Keys(),
        policy=POLICY,
        calendar=CALENDAR,
        pause=(PAUSED_AT, CAP_END),
    )
    [(old, new)] = moves
    assert old is stale
    assert new.pause_base is not None
    assert resolution.pause_base is not None
    assert (new.due_at, new.pause_base[0]) == (resolution.due_at, resolution.pause_base[0])
    assert new.extended_hours == 8
