"""Mass-incident identity: the key a decision carries and the sightings the service records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

_KEY_TIME = "%Y%m%dT%H%M%z"
WIDE = "*"
"""Area of a wide-area issue: the members share a category path (with subcategory), no place."""


def covers(category: str, area: str, *, of_category: str | None, of_area: str | None) -> bool:
    """Whether a complaint of `of_category` in `of_area` is about the issue (category, area).

    A place-bound issue compares top categories in one area (the texts name the place, the
    wording varies); a wide-area one compares whole category paths, wherever the customers are
    (an outage of a cell, a rating error: the texts share no place name).
    """
    if not of_category:
        return False
    if area == WIDE:
        return of_category == category
    return of_category.split("/", 1)[0] == category and of_area == area


@dataclass(frozen=True)
class IncidentKey:
    """Top category, area and window start of a burst: `<category>|<area>|<window start>`."""

    category: str
    area: str
    start: datetime

    def __str__(self) -> str:
        """The key as carried on a decision."""
        return f"{self.category}|{self.area}|{self.start.strftime(_KEY_TIME)}"

    @classmethod
    def parse(cls, key: str) -> IncidentKey:
        """Read a key written by `str()`; raises ValueError on anything else."""
        parts = key.rsplit("|", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError(f"not an incident key: {key!r}")
        category, area, start = parts
        try:
            # The same format as _KEY_TIME, spelled out so the linter sees the %z.
            when = datetime.strptime(start, "%Y%m%dT%H%M%z")
        except ValueError as error:
            raise ValueError(f"not an incident key: {key!r}") from error
        return cls(category=category, area=area, start=when)

    def same_issue(self, other: IncidentKey) -> bool:
        """Whether both bursts are about the same category in the same area."""
        return (self.category, self.area) == (other.category, other.area)

    @property
    def issue(self) -> str:
        """What the members share, without the window: `<category>|<area or *>`."""
        return f"{self.category}|{self.area}"

    def covers(self, category: str | None, area: str | None) -> bool:
        """Whether a complaint of `category` in `area` is about this issue."""
        return covers(self.category, self.area, of_category=category, of_area=area)

    def fresh(self, taken: Collection[str]) -> IncidentKey:
        """This key, or the first one a minute on that no incident holds yet (a closed
        incident keeps its id: a later burst of the issue with the same window start is new)."""
        key = self
        while str(key) in taken:
            key = replace(key, start=key.start + timedelta(minutes=1))
        return key


@dataclass(frozen=True)
class IncidentSighting:
    """Complaints of one burst seen together; the store merges it into an open incident."""

    key: IncidentKey
    last_seen: datetime
    complaint_ids: tuple[str, ...]

    @property
    def first_seen(self) -> datetime:
        """When the burst began (its window start)."""
        return self.key.start

    def overlaps(self, *, last_seen: datetime) -> bool:
        """Whether an incident last seen at `last_seen` is still open for this burst."""
        return self.key.start <= last_seen

    def merged(self, other: IncidentSighting) -> IncidentSighting:
        """One sighting covering both (same issue, overlapping windows)."""
        first = self if self.key.start <= other.key.start else other
        return IncidentSighting(
            key=first.key,
            last_seen=max(self.last_seen, other.last_seen),
            complaint_ids=tuple(dict.fromkeys([*self.complaint_ids, *other.complaint_ids])),
        )


def merge_sightings(sightings: list[IncidentSighting]) -> list[IncidentSighting]:
    """Fold sightings (in time order) of the same issue whose windows overlap into one each."""
    merged: list[IncidentSighting] = []
    for sighting in sightings:
        open_one = next(
            (
                i
                for i, m in enumerate(merged)
                if m.key.same_issue(sighting.key) and sighting.overlaps(last_seen=m.last_seen)
            ),
            None,
        )
        if open_one is None:
            merged.append(sighting)
        else:
            merged[open_one] = merged[open_one].merged(sighting)
    return merged


@dataclass(frozen=True)
class KnownIncident:
    """An incident of a sighting's issue as the store holds it."""

    incident_id: str
    first_seen: datetime
    last_seen: datetime
    open: bool
    complaint_ids: Collection[str] = ()


@dataclass(frozen=True)
class Placement:
    """Where a sighting goes: the incident's id and the members it adds."""

    incident_id: str
    complaint_ids: tuple[str, ...]


def place(sighting: IncidentSighting, known: Sequence[KnownIncident]) -> Placement:
    """The incident a sighting joins: the earliest open incident of its issue whose span
    overlaps it, else a new one under a fresh key (never a closed incident's id).

    Members of a closed (or merged) incident stay there: they are added nowhere, and a
    sighting of nothing else is that incident's (a redelivery of a batch decided before the
    close). `known` holds every incident of the sighting's issue.
    """
    done = {c for k in known if not k.open for c in k.complaint_ids}
    members = tuple(c for c in sighting.complaint_ids if c not in done)
    joinable = sorted(
        (
            k
            for k in known
            if k.open
            and sighting.overlaps(last_seen=k.last_seen)
            and k.first_seen <= sighting.last_seen
        ),
        key=lambda k: (k.first_seen, k.incident_id),
    )
    if not members:
        holder = next(
            k for k in known if not k.open and sighting.complaint_ids[0] in k.complaint_ids
        )
        return Placement(holder.incident_id, ())
    if joinable:
        return Placement(joinable[0].incident_id, members)
    return Placement(str(sighting.key.fresh({k.incident_id for k in known})), members)
