"""The stored form of a clock entry: a plain document inside the case's `clocks` list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from contracts import Audience, ClockName, ClockStatus
from servicekit.mongo import Document
from sla.clocks.sheet import ClockEntry, Lease, Threshold

T = TypeVar("T")

# Members by value: a dict look-up, where calling the enum per stored value cost more than the
# rest of decoding an entry.
_AUDIENCES = {a.value: a for a in Audience}
_CLOCKS = {c.value: c for c in ClockName}
_STATUSES = {s.value: s for s in ClockStatus}
_TEAMS: dict[tuple[str, ...], tuple[Audience, ...]] = {}
"""Audience lists as stored → as members: few distinct lists, each converted once."""
_new = object.__new__


def _made(cls: type[T], fields: dict[str, Any]) -> T:
    """A frozen dataclass filled in directly: its `__init__` sets each field through
    `object.__setattr__`, the larger part of decoding a stored sheet (every read of a case)."""
    item: T = _new(cls)
    item.__dict__.update(fields)
    return item


def _audiences(raw: Sequence[str]) -> tuple[Audience, ...]:
    key = tuple(raw)
    found = _TEAMS.get(key)
    if found is None:
        found = _TEAMS[key] = tuple(_AUDIENCES[a] for a in key)
    return found


def ms(at: datetime) -> datetime:
    """`at` truncated to milliseconds, the precision BSON dates keep."""
    micro = at.microsecond
    return at if micro % 1000 == 0 else at.replace(microsecond=micro // 1000 * 1000)


def thresholds_doc(thresholds: Sequence[Threshold]) -> list[Document]:
    """Thresholds as stored."""
    return [
        {"percent": t.percent, "at": ms(t.at), "audiences": [a.value for a in t.audiences]}
        for t in thresholds
    ]


def thresholds_of(raw: Sequence[Document]) -> tuple[Threshold, ...]:
    """Thresholds back from their stored form."""
    return tuple(
        _made(
            Threshold,
            {"percent": t["percent"], "at": t["at"], "audiences": _audiences(t["audiences"])},
        )
        for t in raw
    )


def clock_doc(e: ClockEntry) -> Document:
    """One entry of the case's `clocks` list."""
    base = e.pause_base
    return {
        "key": e.key,
        "clock": e.clock.value if e.clock else None,
        "occurrence": e.occurrence,
        "round": e.round,
        "severity": e.severity,
        "status": e.status.value,
        "started_at": ms(e.started_at),
        "due_at": ms(e.due_at),
        "thresholds": thresholds_doc(e.thresholds),
        "passed": list(e.passed),
        "unit": e.unit,
        "repeat": e.repeat,
        "upgrade_to": e.upgrade_to,
        "stopped_at": ms(e.stopped_at) if e.stopped_at else None,
        "pause_base": (
            {"due_at": ms(base[0]), "thresholds": thresholds_doc(base[1])} if base else None
        ),
        "paused_seconds": e.paused_seconds,
        "extended_hours": e.extended_hours,
        "policy_version": e.policy_version,
        "calendar_version": e.calendar_version,
        "lease": {"owner": e.lease.owner, "until": ms(e.lease.until)} if e.lease else None,
        "folded": list(e.folded),
    }


def clock_of(doc: Document) -> ClockEntry:
    """A clock entry back from its stored form."""
    base = doc.get("pause_base")
    lease = doc.get("lease")
    get = doc.get
    return _made(
        ClockEntry,
        {
            "key": doc["key"],
            "clock": _CLOCKS[doc["clock"]] if get("clock") else None,
            "occurrence": doc["occurrence"],
            "severity": doc["severity"],
            "started_at": doc["started_at"],
            "due_at": doc["due_at"],
            "thresholds": thresholds_of(doc["thresholds"]),
            "policy_version": doc["policy_version"],
            "calendar_version": doc["calendar_version"],
            "status": _STATUSES[doc["status"]],
            "passed": tuple(get("passed", ())),
            "unit": get("unit", "h"),
            "repeat": bool(get("repeat", False)),
            "round": get("round", 0),
            "upgrade_to": get("upgrade_to"),
            "stopped_at": get("stopped_at"),
            "pause_base": (base["due_at"], thresholds_of(base["thresholds"])) if base else None,
            "paused_seconds": float(get("paused_seconds", 0.0)),
            "extended_hours": float(get("extended_hours", 0.0)),
            "lease": Lease(lease["owner"], lease["until"]) if lease else None,
            "folded": _folded(get("folded")),
        },
    )


def _folded(raw: Sequence[int] | None) -> tuple[int, int, int]:
    """Folded occurrence counts back (absent on sheets stored before they were kept)."""
    on_time, late, breached = raw or (0, 0, 0)
    return int(on_time), int(late), int(breached)
