"""In-memory classification store for handler tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from classifier.domain import (
    IncidentKey,
    IncidentRow,
    IncidentSighting,
    IncidentState,
    KnownIncident,
    Member,
    PriorComplaint,
    Standing,
    place,
)
from classifier.domain.path_tally import TallyRow, minute_of
from contracts import ComplaintClassified, CustomerTier, Kind
from contracts import IncidentRecord as IncidentNews
from servicekit.outbox import MemoryDecisions, Stored


@dataclass
class IncidentRecord:
    """One mass incident as the Mongo store keeps it in `incidents`."""

    incident_id: str
    category: str
    area: str
    first_seen: datetime
    last_seen: datetime
    complaint_ids: list[str] = field(default_factory=list)
    announced: set[str] = field(default_factory=set)
    sequence: int = 0
    opened_by: str | None = None
    opened_with: int | None = None
    removed_ids: set[str] = field(default_factory=set)
    standing: Standing = field(default_factory=Standing)

    @property
    def count(self) -> int:
        """How many complaints belong to the incident."""
        return len(self.complaint_ids)


class InMemoryClassificationStore:
    """Decisions in a dict, with the same history queries as the Mongo store."""

    def __init__(self) -> None:
        self.decisions: MemoryDecisions[ComplaintClassified] = MemoryDecisions()
        self.areas: dict[str, str | None] = {}
        self.incidents: dict[str, IncidentRecord] = {}
        self.incident_of: dict[str, str] = {}
        """Complaint id → incident id, as the `incident_id` field of `classifications`."""

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    def _priors(self) -> list[PriorComplaint]:
        return [
            PriorComplaint(
                complaint_id=e.data.complaint_id,
                complainant_key=e.data.complainant_key,
                category=e.data.category,
                received_at=e.data.received_at,
                area=self.areas.get(cid),
                tier=e.data.customer_tier,
                incident_id=self.incident_of.get(cid),
            )
            for cid, e in self.decisions.events.items()
            if e.data.kind is Kind.COMPLAINT
        ]

    async def by_complainants(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these complainants since `since`."""
        return [p for p in self._priors() if p.complainant_key in keys and p.received_at >= since]

    async def by_issues(
        self, issues: Sequence[tuple[str, str]], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these (top category, area) pairs since `since`."""
        wanted = set(issues)
        return [
            p
            for p in self._priors()
            if ((p.category or "").split("/")[0], p.area) in wanted and p.received_at >= since
        ]

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these whole category paths since `since`, any area."""
        return [p for p in self._priors() if p.category in categories and p.received_at >= since]

    async def path_tally(self, categories: Sequence[str], minutes: Sequence[int]) -> list[TallyRow]:
        """Decisions per path, minute and tier: exactly those `by_categories` returns."""
        wanted, within = set(categories), set(minutes)
        counts: dict[tuple[str, int, CustomerTier], int] = {}
        for p in self._priors():
            if p.category in wanted and (minute := minute_of(p.received_at)) in within:
                key = (p.category, minute, p.tier)
                counts[key] = counts.get(key, 0) + 1
        return [TallyRow(c, m, t, n) for (c, m, t), n in sorted(counts.items())]

    async def save(
        self, events: Sequence[tuple[ComplaintClassified, str | None]]
    ) -> Stored[ComplaintClassified]:
        """Keep decisions for complaints that have none yet; the kept decision of each."""
        saved = self.decisions.keep([(event.data.complaint_id, event) for event, _ in events])
        for event, area in events:
            if (complaint_id := event.data.complaint_id) in saved.new:
                self.areas.setdefault(complaint_id, area)
                if event.data.incident_id:
                    self.incident_of.setdefault(complaint_id, event.data.incident_id)
        return saved

    async def record_incident(self, sighting: IncidentSighting) -> str:
        """Merge into the earliest open incident of the same issue, or open one (`place`)."""
        key = sighting.key
        known = [
            KnownIncident(
                r.incident_id, r.first_seen, r.last_seen, r.standing.open, r.complaint_ids
            )
            for r in self.incidents.values()
            if (r.category, r.area) == (key.category, key.area)
        ]
        placed = place(sighting, known)
        record = self.incidents.setdefault(
            placed.incident_id,
            IncidentRecord(placed.incident_id, key.category, key.area, key.start, key.start),
        )
        if not placed.complaint_ids:
            return record.incident_id
        record.first_seen = min(record.first_seen, sighting.first_seen)
        record.last_seen = max(record.last_seen, sighting.last_seen)
        record.complaint_ids.extend(
            c for c in placed.complaint_ids if c not in record.complaint_ids
        )
        return record.incident_id

    async def closed_incidents(self, incident_ids: Sequence[str]) -> set[str]:
        """Those of `incident_ids` operations closed or merged."""
        return {i for i in incident_ids if (r := self.incidents.get(i)) and not r.standing.open}

    async def published_without_incident(self, complaint_ids: Sequence[str]) -> list[str]:
        """Those of `complaint_ids` whose kept decision carries no incident id, in that order."""
        events = self.decisions.events
        return [c for c in complaint_ids if c in events and events[c].data.incident_id is None]

    async def link_incident(self, incident_id: str, complaint_ids: Sequence[str]) -> None:
        """Mark the complaints as members of the incident."""
        for complaint_id in complaint_ids:
            self.incident_of[complaint_id] = incident_id

    async def open_incidents(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[tuple[IncidentKey, datetime]]:
        """Incidents of these paths or their tops last seen since `since`."""
        wanted = {*categories, *(c.split("/")[0] for c in categories)}
        return [
            (IncidentKey(r.category, r.area, r.first_seen), r.last_seen)
            for r in self.incidents.values()
            if r.category in wanted and r.last_seen >= since and r.standing.open
        ]

    async def incident_states(self, incident_ids: Sequence[str]) -> list[IncidentState]:
        """The incidents with their members and what downstream was told."""
        events = self.decisions.events
        return [
            IncidentState(
                incident_id=r.incident_id,
                members=tuple(
                    Member(c, d.received_at, d.channel, d.customer_tier)
                    for c in r.complaint_ids
                    if c in events and c not in r.removed_ids
                    for d in (events[c].data,)
                ),
                announced=frozenset(r.announced),
                sequence=r.sequence,
                opened_by=r.opened_by,
                opened_with=r.opened_with,
                closed=not r.standing.open,
            )
            for i in incident_ids
            if (r := self.incidents.get(i)) is not None
        ]

    async def mark_announced(self, told: IncidentNews) -> None:
        """Remember the members told of by the event of `told.sequence`."""
        record = self.incidents[told.incident_id]
        record.announced.update(told.added_ids)
        record.sequence = max(record.sequence, told.sequence)
        record.opened_by = told.opened_by
        record.opened_with = told.opened_with


class InMemoryIncidentLedger:
    """Operations' changes to the in-memory store's incidents."""

    def __init__(self, store: InMemoryClassificationStore) -> None:
        self.store = store

    async def incidents(self, *, open_only: bool | None = None) -> list[IncidentRow]:
        """Every incident (or the open / closed ones), last seen latest first."""
        rows = [
            IncidentRow(
                r.incident_id, r.category, r.area, r.first_seen, r.last_seen, r.count, r.standing
            )
            for r in self.store.incidents.values()
            if open_only is None or r.standing.open == open_only
        ]
        return sorted(rows, key=lambda r: r.last_seen, reverse=True)

    async def close(self, incident_id: str, *, sequence: int, standing: Standing) -> None:
        """Closed once (a second close changes nothing); the sequence only grows."""
        record = self.store.incidents[incident_id]
        if record.standing.open:
            record.standing = standing
            record.sequence = max(record.sequence, sequence)

    async def take_out(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Remove members for good."""
        record = self.store.incidents[incident_id]
        record.complaint_ids = [c for c in record.complaint_ids if c not in complaint_ids]
        record.removed_ids.update(complaint_ids)
        record.sequence = max(record.sequence, sequence)

    async def take_in(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Add members as announced."""
        record = self.store.incidents[incident_id]
        record.complaint_ids.extend(c for c in complaint_ids if c not in record.complaint_ids)
        record.announced.update(complaint_ids)
        record.removed_ids.difference_update(complaint_ids)
        record.sequence = max(record.sequence, sequence)
