"""Which incident a complaint of a batch belongs to, and how its flag says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from classifier.domain import Decision, IncidentSighting
from classifier.ports import ClassificationStore
from contracts import Flag, FlagName, Kind, NormalizedComplaint


@dataclass(frozen=True)
class IncidentMembership:
    """The incident a batch complaint belongs to, and its members published without its id."""

    incident_id: str
    published_before: tuple[str, ...] = ()


def with_members(flag: Flag, incident: IncidentMembership | None) -> Flag:
    """The mass-incident flag lists the incident's members published without its id.

    Their own events went out before the burst reached the threshold and are never re-sent
    (ADR 0003), so this is how downstream learns that they belong to the incident. The list is
    read from the stored decisions, so a redelivered batch produces the same flag.
    """
    if flag.name is not FlagName.MASS_INCIDENT or incident is None:
        return flag
    earlier = incident.published_before
    detail = flag.detail
    if earlier:
        detail = f"{detail}; {len(earlier)} published earlier, linked to {incident.incident_id}"
    return flag.model_copy(update={"related": list(earlier), "detail": detail})


async def late_joiners(
    store: ClassificationStore,
    span: timedelta,
    items: Sequence[NormalizedComplaint],
    decisions: Sequence[Decision],
    areas: Sequence[str | None],
) -> list[IncidentSighting]:
    """Complaints about the issue of an incident still open (seen within the window) join it,
    even when their own window holds too few complaints (the tail of an outage)."""
    loose = [
        (c, d, a)
        for c, d, a in zip(items, decisions, areas, strict=True)
        if d.kind is Kind.COMPLAINT and d.category and d.incident_key is None
    ]
    if not loose:
        return []
    open_ones = await store.open_incidents(
        sorted({d.category or "" for _, d, _ in loose}),
        since=min(c.received_at for c, _, _ in loose) - span,
    )
    joiners = []
    for complaint, decision, area in loose:
        key = next(
            (
                k
                for k, last_seen in open_ones
                if k.covers(decision.category, area)
                and k.start <= complaint.received_at <= last_seen + span
            ),
            None,
        )
        if key is not None:
            joiners.append(IncidentSighting(key, complaint.received_at, (complaint.complaint_id,)))
    return joiners
