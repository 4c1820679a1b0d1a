"""Mass incidents: operations told once and kept up to date; each customer one notice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from contracts import Audience, IncidentChange, IncidentRecord
from notifier.domain.incident_policy import IncidentPolicy
from notifier.domain.intent import Intent, Origin, local_time, notification_key


@dataclass(frozen=True)
class IncidentMember:
    """A complaint known to belong to an incident (from its decision or an incident event)."""

    complaint_id: str
    incident_id: str
    category: str
    first_seen: datetime


class IncidentRouter:
    """Intents for one incident change; keys make every message go at most once."""

    def __init__(self, policy: IncidentPolicy, timezone: ZoneInfo) -> None:
        self.policy = policy
        self.timezone = timezone

    def for_staff(
        self, record: IncidentRecord, *, at: datetime, origin: Origin | None = None
    ) -> list[Intent]:
        """Open: one alert. Grown past a multiple of the opening size: one update. Closed: one."""
        level = self._level(record)
        if level is None or not record.member_ids:
            return []
        kind = {"opened": "opened", "closed": "closed"}.get(level, "update")
        audience = self.policy.audience
        anchor = record.member_ids[0]
        return [
            Intent(
                key=notification_key(anchor, "incident", record.incident_id, level, audience),
                complaint_id=anchor,
                audience=audience,
                template=self.policy.templates[kind],
                trigger_time=at,
                context=self._staff_context(record, level),
                origin=origin,
                department=self.policy.departments.get(record.category.split("/")[0]),
            )
        ]

    def notice(self, member: IncidentMember, *, at: datetime, origin: Origin | None) -> Intent:
        """The customer's acknowledgement, told as a known fault (the acknowledgement's key)."""
        return Intent(
            key=notification_key(member.complaint_id, "ack", "-", "-", Audience.CUSTOMER),
            complaint_id=member.complaint_id,
            audience=Audience.CUSTOMER,
            template=self.policy.templates["notice"],
            trigger_time=at,
            context=self._customer_context(member),
            origin=origin,
            acknowledgement=True,  # it answers the complaint: the SLA's acknowledge clock is met
        )

    def instead_of(self, acknowledgement: Intent, member: IncidentMember) -> Intent:
        """The incident notice in place of the boilerplate acknowledgement (same key)."""
        return replace(
            acknowledgement,
            template=self.policy.templates["notice"],
            context=acknowledgement.context | self._customer_context(member),
        )

    def update_notice(
        self, member: IncidentMember, *, at: datetime, origin: Origin | None
    ) -> Intent:
        """The notice for a customer acknowledged before the incident was known."""
        return self._customer(member, "notice", "update_notice", at, origin)

    def restored(self, member: IncidentMember, *, at: datetime, origin: Origin | None) -> Intent:
        """One restoration notice per member when the incident is closed."""
        return self._customer(member, "restored", "restored", at, origin)

    def _customer(
        self, member: IncidentMember, level: str, template: str, at: datetime, origin: Origin | None
    ) -> Intent:
        return Intent(
            key=notification_key(
                member.complaint_id, "incident", member.incident_id, level, Audience.CUSTOMER
            ),
            complaint_id=member.complaint_id,
            audience=Audience.CUSTOMER,
            template=self.policy.templates[template],
            trigger_time=at,
            context=self._customer_context(member),
            origin=origin,
        )

    def _level(self, record: IncidentRecord) -> str | None:
        """`opened`, `closed`, or `x<m>` for the largest multiple reached; None otherwise."""
        if record.change is IncidentChange.OPENED:
            return "opened"
        if record.change is IncidentChange.CLOSED:
            return "closed"
        if record.change is not IncidentChange.GROWN:
            return None
        reached = [
            m for m in self.policy.update_at if record.counts.total >= m * record.opened_with
        ]
        return f"x{reached[-1]}" if reached else None

    def _staff_context(self, record: IncidentRecord, level: str) -> dict[str, str]:
        channels = "、".join(f"{c.value} {n}" for c, n in sorted(record.counts.by_channel.items()))
        return {
            "case": record.member_ids[0],
            "incident": record.incident_id,
            "category": record.category,
            "fault": self.policy.fault(record.category),
            "area": record.area or "多个地点",
            "count": str(record.counts.total),
            "important": str(record.counts.important),
            "channels": channels,
            "opened_by": record.opened_by,
            "level": level,
            "first_seen": local_time(record.first_seen, self.timezone),
            "last_seen": local_time(record.last_seen, self.timezone),
            "resolution": record.resolution or "",
        }

    def _customer_context(self, member: IncidentMember) -> dict[str, str]:
        restoration = member.first_seen + timedelta(hours=self.policy.restoration_hours)
        return {
            "case": member.complaint_id,
            "fault": self.policy.fault(member.category),
            "restoration": local_time(restoration, self.timezone),
        }


def members_of(record: IncidentRecord, ids: list[str]) -> list[IncidentMember]:
    """The record's members among `ids`, as the notifier keeps them."""
    return [IncidentMember(c, record.incident_id, record.category, record.first_seen) for c in ids]
