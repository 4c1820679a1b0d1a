"""`complaints sla deadlines`: the due time of every clock a complaint would get at receipt."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo


def deadlines_command(
    *, received: str, severity: str, channel: str, policy_dir: Path, pack: str = "telecom"
) -> dict[str, str]:
    """Clock → due time (ISO 8601, local offset); naive input is read as the calendar's zone.

    Repeating clocks give their first occurrence; the callback starts on resolution, so it is
    not listed.
    """
    from contracts import Channel, Severity
    from sla.domain import BusinessCalendar, SlaPolicy, deadlines_at_receipt

    calendar = BusinessCalendar.load(policy_dir=policy_dir, pack=pack)
    policy = SlaPolicy.load(policy_dir=policy_dir, pack=pack)
    moment = datetime.fromisoformat(received)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(calendar.timezone))
    try:
        level, origin = Severity(severity.upper()), Channel(channel)
    except ValueError as exc:
        raise ValueError(f"{exc}; severity is P1..P4, channel one of the intake codes") from exc
    deadlines = deadlines_at_receipt(
        received_at=moment,
        severity=level,
        channel=origin,
        referral_due_at=None,
        flags=(),
        policy=policy,
        calendar=calendar,
    )
    return {
        deadline.clock.value: calendar.local(deadline.due_at).isoformat(timespec="seconds")
        for deadline in deadlines
    }
