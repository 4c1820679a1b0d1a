"""What a notification intent is: one message to one audience, keyed to be sent at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from contracts import Audience, Severity


@dataclass(frozen=True)
class Origin:
    """The consumed record an intent came from (for dead letters)."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Intent:
    """One message to one audience about one complaint, keyed so it is sent at most once."""

    key: str
    complaint_id: str
    audience: Audience
    template: str
    trigger_time: datetime
    context: dict[str, str] = field(default_factory=dict)
    severity: Severity | None = None
    digestible: bool = False
    origin: Origin | None = None
    acknowledgement: bool = False  # the customer's acknowledgement (meets the SLA's clock)
    department: str | None = None
    """Staff: the department whose desk is told, instead of the case's (incidents)."""


def notification_key(
    complaint_id: str, kind: str, clock: str, level: str, audience: Audience
) -> str:
    """The idempotency key: (complaint, kind, clock, level, audience)."""
    return f"{complaint_id}:{kind}:{clock}:{level}:{audience.value}"


def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """`2026-11-27 18:00` in the pack's time zone; empty for no time."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""
