"""The stored form of a deadline: statuses, millisecond times, thresholds, next fire time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts import (
    Audience,
    ClockName,
)
from servicekit.mongo import Document
from sla.ports import (
    StoredDeadline,
    Threshold,
)

PENDING, FIRING, DONE = "pending", "firing", "done"
# A clock stays `pending` after its last threshold fired: it is still open until its goal is met
# (or it is cancelled). Only a fired severity upgrade, which has no goal, becomes `done`.
RUNNING = (PENDING, FIRING)


def ms(at: datetime) -> datetime:
    """`at` truncated to milliseconds, the precision BSON dates keep."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def thresholds_doc(thresholds: Sequence[Threshold]) -> list[Document]:
    return [
        {"percent": t.percent, "at": ms(t.at), "audiences": [a.value for a in t.audiences]}
        for t in thresholds
    ]


def thresholds_of(raw: Sequence[Document]) -> tuple[Threshold, ...]:
    return tuple(
        Threshold(t["percent"], t["at"], tuple(Audience(a) for a in t["audiences"])) for t in raw
    )


def next_threshold(thresholds: Sequence[Threshold], fired: Sequence[int]) -> Threshold | None:
    pending = [t for t in thresholds if t.percent not in fired]
    return min(pending, key=lambda t: t.at) if pending else None


def to_document(d: StoredDeadline) -> Document:
    """The stored form of a deadline; `next_fire_at` is what the slot index points at."""
    nxt = d.next_threshold()
    return {
        "_id": d.deadline_id,
        "complaint_id": d.complaint_id,
        "clock": d.clock.value if d.clock else None,
        "occurrence": d.occurrence,
        "severity": d.severity,
        "started_at": d.started_at,
        "due_at": ms(d.due_at),
        "thresholds": thresholds_doc(d.thresholds),
        "fired": list(d.fired),
        "policy_version": d.policy_version,
        "calendar_version": d.calendar_version,
        "upgrade_to": d.upgrade_to,
        "unit": d.unit,
        "repeat": d.repeat,
        "round": d.round,
        "pause_base": None,
        "status": PENDING if nxt or d.clock else DONE,
        "next_fire_at": ms(nxt.at) if nxt else None,
        "next_percent": nxt.percent if nxt else None,
        "plan": 0,
        "applied": [],
    }


def from_document(doc: Document) -> StoredDeadline:
    """Rebuild a deadline from its stored form."""
    base = doc.get("pause_base")
    return StoredDeadline(
        deadline_id=doc["_id"],
        complaint_id=doc["complaint_id"],
        clock=ClockName(doc["clock"]) if doc.get("clock") else None,
        occurrence=doc["occurrence"],
        severity=doc["severity"],
        started_at=doc["started_at"],
        due_at=doc["due_at"],
        thresholds=thresholds_of(doc["thresholds"]),
        policy_version=doc["policy_version"],
        calendar_version=doc["calendar_version"],
        upgrade_to=doc.get("upgrade_to"),
        fired=tuple(doc.get("fired", ())),
        unit=doc.get("unit", "h"),
        repeat=bool(doc.get("repeat", False)),
        round=doc.get("round", 0),
        pause_base=(base["due_at"], thresholds_of(base["thresholds"])) if base else None,
    )
