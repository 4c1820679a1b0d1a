"""Which incident a complaint of a batch belongs to, and how its flag says so."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import Flag, FlagName


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
