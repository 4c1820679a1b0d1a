"""Classifier's view of the `complaints` collection in MongoDB (or FerretDB)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from classifier.adapters import mongo_incidents
from classifier.adapters.mongo_history import MongoHistory
from classifier.adapters.mongo_path_tally import MongoPathTally
from classifier.domain import (
    IncidentKey,
    IncidentSighting,
    IncidentState,
    KnownIncident,
    PriorComplaint,
    place,
)
from classifier.domain.path_tally import TallyRow
from contracts import ComplaintClassified, IncidentRecord
from servicekit.mongo import Document, ensure_index, find_all
from servicekit.outbox import Decisions, Stored

_STAGE = "classified"
_IDS_PER_STATEMENT = 500
"""Keys per `_id $in` update (as many as one batch insert holds)."""
_PUBLISHED_INCIDENT = f"{_STAGE}_event.data.incident_id"
"""Where the stored event keeps its incident id (`<stage>_event`, servicekit.outbox)."""


class MongoClassificationStore:
    """`classifications`: one document per complaint, keyed by complaint id; `incidents`: one per
    mass incident, keyed by the incident key of the burst that opened it.

    A complaint's `incident_id` field names its incident whether its event carried the id or it
    was linked later (decided before its burst reached the threshold).
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._classifications = db["classifications"]
        self._incidents = db["incidents"]
        self._tally = MongoPathTally(db["classification_tally"])
        self._history_entries = db["classification_history"]
        self._history = MongoHistory(self._history_entries, self._tally)
        self._decisions = Decisions(
            self._classifications, stage=_STAGE, event_type=ComplaintClassified
        )

    async def ensure_indexes(self) -> None:
        """History look-ups (ADR 0030) and the path tally (ADR 0033), each backfilled once;
        open incidents by (category, area)."""
        await self._history.ensure_indexes()
        await ensure_index(
            self._incidents,
            [("category", ASCENDING), ("area", ASCENDING), ("last_seen", ASCENDING)],
        )
        await self._history.backfill(self._classifications)
        await self._tally.backfill(self._history_entries)

    async def by_complainants(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these complainants since `since`."""
        return await self._history.by_complainants(keys, since=since) if keys else []

    async def by_issues(
        self, issues: Sequence[tuple[str, str]], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these (top category, area) pairs since `since`, all of them."""
        return await self._history.by_issues(issues, since=since) if issues else []

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these whole category paths since `since`, any area."""
        return await self._history.by_categories(categories, since=since) if categories else []

    async def path_tally(self, categories: Sequence[str], minutes: Sequence[int]) -> list[TallyRow]:
        """Decisions per path, minute and tier, never fewer than stored (ADR 0033)."""
        return await self._tally.read(categories, minutes)

    async def save(
        self, events: Sequence[tuple[ComplaintClassified, str | None]]
    ) -> Stored[ComplaintClassified]:
        """Store decisions for complaints that have none yet (one batch insert); the decision
        to publish per complaint: the stored one where there was one (one `$in` read)."""
        now = datetime.now(UTC)
        entries = [
            (
                event.data.complaint_id,
                event,
                {
                    "kind": event.data.kind.value,
                    "channel": event.data.channel.value,
                    "customer_tier": event.data.customer_tier.value,
                    "complainant_key": event.data.complainant_key,
                    "received_at": event.data.received_at,
                    "duplicate_of": event.data.duplicate_of,
                    "category": event.data.category,
                    "category_top": event.data.category.split("/")[0]
                    if event.data.category
                    else None,
                    "severity": event.data.severity.value if event.data.severity else None,
                    "flags": [f.name.value for f in event.data.flags],
                    "area": area,
                    "incident_id": event.data.incident_id,
                    "classified_at": now,
                },
            )
            for event, area in events
        ]
        stored = await self._decisions.store(entries)
        areas = {event.data.complaint_id: area for event, area in events}
        # The stored decision of each id (a redelivery's is the first one), as `classifications`.
        await self._history.add((e, areas.get(e.data.complaint_id)) for e in stored.events)
        return stored

    async def record_incident(self, sighting: IncidentSighting) -> str:
        """Merge into the earliest open incident of the same issue, or open one (`place`).

        The look-up reads the issue's incidents (few: one per burst). The write is an `_id`
        upsert with `$addToSet`, `$min` and `$max`, so recording a sighting twice (redelivery)
        changes nothing.
        """
        key = sighting.key
        docs = await find_all(
            self._incidents,
            {"category": key.category, "area": key.area},
            {"first_seen": 1, "last_seen": 1, "closed_at": 1, "complaint_ids": 1},
        )
        known = [
            KnownIncident(
                d["_id"],
                d["first_seen"],
                d["last_seen"],
                d.get("closed_at") is None,
                d.get("complaint_ids", ()),
            )
            for d in docs
        ]
        placed = place(sighting, known)
        if not placed.complaint_ids:
            return placed.incident_id
        await self._incidents.update_one(
            {"_id": placed.incident_id},
            {
                "$setOnInsert": {"category": key.category, "area": key.area},
                "$min": {"first_seen": sighting.first_seen},
                "$max": {"last_seen": sighting.last_seen},
                "$addToSet": {"complaint_ids": {"$each": list(placed.complaint_ids)}},
            },
            upsert=True,
        )
        [doc] = await find_all(self._incidents, {"_id": placed.incident_id}, {"complaint_ids": 1})
        # Counts only grow, so `$max` keeps the larger figure when two consumers race.
        await self._incidents.update_one(
            {"_id": placed.incident_id}, {"$max": {"count": len(doc["complaint_ids"])}}
        )
        return placed.incident_id

    async def closed_incidents(self, incident_ids: Sequence[str]) -> set[str]:
        """Those of `incident_ids` operations closed or merged (one `_id $in` read)."""
        if not incident_ids:
            return set()
        query = {"_id": {"$in": sorted(set(incident_ids))}, "closed_at": {"$ne": None}}
        return {d["_id"] for d in await find_all(self._incidents, query, {"_id": 1})}

    async def published_without_incident(self, complaint_ids: Sequence[str]) -> list[str]:
        """Those of `complaint_ids` whose stored event has no incident id, in that order."""
        if not complaint_ids:
            return []
        docs = await find_all(
            self._classifications,
            {"_id": {"$in": list(complaint_ids)}, _PUBLISHED_INCIDENT: None},
            {"_id": 1},
        )
        found = {doc["_id"] for doc in docs}
        return [complaint_id for complaint_id in complaint_ids if complaint_id in found]

    async def link_incident(self, incident_id: str, complaint_ids: Sequence[str]) -> None:
        """Set `incident_id` on the complaints' documents that lack it: one `update_many` per
        `_id $in` chunk, whatever the number of members (every batch of an incident re-links
        its early members; those already linked are not written again)."""
        for start in range(0, len(complaint_ids), _IDS_PER_STATEMENT):
            chunk = list(complaint_ids[start : start + _IDS_PER_STATEMENT])
            await self._classifications.update_many(
                {"_id": {"$in": chunk}, "incident_id": {"$ne": incident_id}},
                {"$set": {"incident_id": incident_id}},
            )
        await self._history.link(incident_id, complaint_ids)

    async def open_incidents(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[tuple[IncidentKey, datetime]]:
        """Incidents of these paths or their tops last seen since `since` (incidents are few)."""
        wanted = sorted({*categories, *(c.split("/")[0] for c in categories)})
        docs = await find_all(
            self._incidents,
            {"category": {"$in": wanted}, "last_seen": {"$gte": since}, "closed_at": None},
            {"category": 1, "area": 1, "first_seen": 1, "last_seen": 1},
        )
        return [
            (IncidentKey(d["category"], d["area"], d["first_seen"]), d["last_seen"]) for d in docs
        ]

    async def incident_states(self, incident_ids: Sequence[str]) -> list[IncidentState]:
        """The incidents with their members and what downstream was told."""
        return await mongo_incidents.incident_states(
            self._incidents, self._classifications, incident_ids
        )

    async def mark_announced(self, told: IncidentRecord) -> None:
        """Remember the members told of by the event of `told.sequence`."""
        await mongo_incidents.mark_announced(self._incidents, told)
