"""Who is told what: notification intents derived from pipeline events (DOMAIN.md §7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import (
    Audience,
    ClassifiedComplaint,
    ClockName,
    Kind,
    SlaChange,
    SlaEventKind,
)

ACK_TEMPLATES = {
    Kind.COMPLAINT: "acknowledgement",
    Kind.ENQUIRY: "acknowledgement_enquiry",
    Kind.OUT_OF_SCOPE: "acknowledgement_routed",
}


@dataclass(frozen=True)
class Intent:
    """One message to one audience about one complaint, keyed so it is sent at most once."""

    key: str
    complaint_id: str
    audience: Audience
    template: str
    trigger_time: datetime
    context: dict[str, str] = field(default_factory=dict)


def notification_key(
    complaint_id: str, kind: str, clock: str, level: str, audience: Audience
) -> str:
    """The idempotency key: (complaint, kind, clock, level, audience)."""
    return f"{complaint_id}:{kind}:{clock}:{level}:{audience.value}"


def acknowledgement_for_non_complaint(data: ClassifiedComplaint, *, at: datetime) -> Intent | None:
    """Enquiries and out-of-scope reports are acknowledged on classification (no clocks)."""
    if data.kind is Kind.COMPLAINT or data.duplicate_of:
        return None
    return Intent(
        key=notification_key(data.complaint_id, "ack", "-", "-", Audience.CUSTOMER),
        complaint_id=data.complaint_id,
        audience=Audience.CUSTOMER,
        template=ACK_TEMPLATES[data.kind],
        trigger_time=at,
        context={"case": data.complaint_id},
    )


def intents_for_sla(change: SlaChange, *, at: datetime) -> list[Intent]:
    """Complaint acknowledgement on clocks set; staff alerts on warnings, breaches, escalations."""
    cid = change.complaint_id
    if change.event is SlaEventKind.SET:
        due = {d.clock: d.due_at_local for d in change.deadlines}
        promised = due.get(ClockName.RESOLUTION) or due.get(ClockName.REGULATOR_REPLY) or ""
        return [
            Intent(
                key=notification_key(cid, "ack", "-", "-", Audience.CUSTOMER),
                complaint_id=cid,
                audience=Audience.CUSTOMER,
                template=ACK_TEMPLATES[Kind.COMPLAINT],
                trigger_time=at,
                context={"case": cid, "promised": promised},
            )
        ]
    if change.event not in {
        SlaEventKind.WARNED,
        SlaEventKind.BREACHED,
        SlaEventKind.ESCALATED,
        SlaEventKind.UPGRADED,
    }:
        return []
    clock = change.clock.value if change.clock else "severity"
    level = (
        f"{change.threshold}"
        if change.event is not SlaEventKind.UPGRADED
        else (change.severity.value)
    )
    context = {
        "case": cid,
        "severity": change.severity.value,
        "clock": clock,
        "threshold": str(change.threshold or ""),
        "event": change.event.value,
        "due": change.due_at.isoformat() if change.due_at else "",
    }
    return [
        Intent(
            key=notification_key(
                cid, change.event.value, f"{clock}#{change.occurrence}", level, audience
            ),
            complaint_id=cid,
            audience=audience,
            template=f"staff_{change.event.value}",
            trigger_time=at,
            context=context,
        )
        for audience in change.audiences
    ]
