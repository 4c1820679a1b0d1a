"""`classification_history`: the few fields the classifier's history reads, one small document
per complaint (ADR 0030).

The history reads (repeat, hot issue, mass incident) return every stored complaint of a
category or place inside their windows. A `classifications` document carries the whole
published event (~75 BSON elements) and the local FerretDB decodes a row whole before it
projects, so each read paid for every event of its category. A history document holds nine
plain fields, and its `issue` key (a digest of top category and area, ASCII so the local build
pushes it down) selects exactly the (category, area) pairs asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from classifier.adapters.mongo_issue_cache import IssueCache, IssueCounts
from classifier.adapters.mongo_path_tally import MongoPathTally
from classifier.domain import PriorComplaint
from contracts import ComplaintClassified, CustomerTier
from servicekit.mongo import Document, ensure_index, find_all, insert_new, write_in_chunks

COLLECTION = "classification_history"
_IDS_PER_STATEMENT = 500
_STANDARD = CustomerTier.STANDARD.value
BACKFILLED = "~backfilled"
"""The marker entry of a completed backfill (no field a history query asks for)."""
_FIELDS = {
    "complainant_key": 1,
    "category": 1,
    "received_at": 1,
    "area": 1,
    "customer_tier": 1,
    "incident_id": 1,
}


def issue_key(category_top: str | None, area: str | None) -> str | None:
    """The (top category, area) pair as a short ASCII key; None without both."""
    if not category_top or not area:
        return None
    return hashlib.blake2b(f"{category_top}\x1f{area}".encode(), digest_size=10).hexdigest()


def _top(category: str | None) -> str | None:
    return category.split("/")[0] if category else None


def history_document(event: ComplaintClassified, area: str | None) -> Document:
    """A decision's history entry (what `classifications` says of it when it is stored)."""
    data = event.data
    return {
        "_id": data.complaint_id,
        "kind": data.kind.value,
        "complainant_key": data.complainant_key,
        "category": data.category,
        "issue": issue_key(_top(data.category), area),
        "area": area,
        "received_at": data.received_at,
        "customer_tier": data.customer_tier.value,
        "incident_id": data.incident_id,
    }


def _entry(doc: Mapping[str, Any]) -> Document:
    return {key: doc.get(key) for key in ("_id", "kind", "issue", *_FIELDS)}


def _prior(doc: Mapping[str, Any]) -> PriorComplaint:
    return PriorComplaint(
        complaint_id=doc["_id"],
        complainant_key=doc.get("complainant_key"),
        category=doc.get("category"),
        received_at=doc["received_at"],
        area=doc.get("area"),
        tier=CustomerTier(doc.get("customer_tier") or CustomerTier.STANDARD),
        incident_id=doc.get("incident_id"),
    )


class MongoHistory:
    """Writes follow `classifications` (insert with the decision, incident links, staff
    corrections); reads are the store's three history queries. Every entry is counted in the
    path tally before it is written (ADR 0033)."""

    def __init__(self, collection: AsyncCollection[Document], tally: MongoPathTally) -> None:
        self._history = collection
        self._tally = tally
        self._counts = IssueCounts(collection.database["classification_issue_counts"])
        self._places = IssueCache()

    async def ensure_indexes(self) -> None:
        """By complainant, by issue key and by category path, each then by receipt time."""
        for leading in ("complainant_key", "issue", "category"):
            await ensure_index(self._history, [(leading, ASCENDING), ("received_at", ASCENDING)])

    async def backfill(self, classifications: AsyncCollection[Document]) -> None:
        """Copy `classifications` into the history once per store, at start: a store written
        before the history existed, or a copy cut short, is completed (ids already there are
        skipped); the marker written after the copy makes later starts one `_id` read."""
        if await self._history.find_one({"_id": BACKFILLED}, {"_id": 1}) is not None:
            return
        fields = {**_FIELDS, "kind": 1, "category_top": 1}
        batch: list[Document] = []
        async for doc in classifications.find({}, fields, batch_size=_IDS_PER_STATEMENT):
            batch.append(doc | {"issue": issue_key(doc.get("category_top"), doc.get("area"))})
            if len(batch) == _IDS_PER_STATEMENT:
                await insert_new(self._history, [_entry(d) for d in batch])
                batch = []
        if batch:
            await insert_new(self._history, [_entry(d) for d in batch])
        await insert_new(self._history, [{"_id": BACKFILLED}])

    async def add(self, decisions: Iterable[tuple[ComplaintClassified, str | None]]) -> None:
        """Insert-if-absent the entries of stored decisions (a redelivery adds nothing to the
        history; the tally counts it again, as it must count every entry before it exists)."""
        docs = [history_document(event, area) for event, area in decisions]
        if docs:
            await self._tally.add(
                (d["category"], d["received_at"], d["customer_tier"]) for d in docs
            )
            taken = await insert_new(self._history, docs)
            # Counted after the insert, a redelivered entry too (ADR 0044); only the entries
            # inserted now are known to be as stored.
            await self._counts.raise_counts(d["issue"] for d in docs)
            self._places.written(
                (d["issue"], _prior(d)) for d in docs if d["issue"] and d["_id"] not in taken
            )

    async def link(self, incident_id: str, complaint_ids: Sequence[str]) -> None:
        """Set `incident_id` where it differs (as on `classifications`)."""
        for start in range(0, len(complaint_ids), _IDS_PER_STATEMENT):
            chunk = list(complaint_ids[start : start + _IDS_PER_STATEMENT])
            result = await self._history.update_many(
                {"_id": {"$in": chunk}, "incident_id": {"$ne": incident_id}},
                {"$set": {"incident_id": incident_id}},
            )
            if result.modified_count:
                moved = await find_all(self._history, {"_id": {"$in": chunk}}, {"issue": 1})
                await self._counts.raise_counts(d.get("issue") for d in moved)

    async def regrade(self, decisions: Mapping[str, tuple[str, str | None, datetime]]) -> None:
        """Complaint id → (kind, category, corrected at): the latest correction stands."""
        if not decisions:
            return
        docs = await find_all(
            self._history,
            {"_id": {"$in": sorted(decisions)}},
            {"area": 1, "received_at": 1, "customer_tier": 1, "issue": 1},
        )
        areas = {d["_id"]: d.get("area") for d in docs}
        issues = [d.get("issue") for d in docs]
        # Counted under the new path before the entry moves there (the old count stays: too
        # high is safe).
        await self._tally.add(
            (decisions[d["_id"]][1], d["received_at"], d.get("customer_tier") or _STANDARD)
            for d in docs
            if "received_at" in d
        )
        await write_in_chunks(
            self._history,
            [
                UpdateOne(
                    {
                        "_id": cid,
                        "$or": [{"regraded_at": None}, {"regraded_at": {"$lte": at}}],
                    },
                    {
                        "$set": {
                            "kind": kind,
                            "category": category,
                            "issue": issue_key(_top(category), areas[cid]),
                            "regraded_at": at,
                        }
                    },
                )
                for cid, (kind, category, at) in decisions.items()
                if cid in areas
            ],
        )
        # The entry left its issue and joined another: both counted after the write.
        issues += [issue_key(_top(decisions[cid][1]), area) for cid, area in areas.items()]
        await self._counts.raise_counts(issues)

    async def by_complainants(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Complaints of these complainants since `since`."""
        query = {
            "complainant_key": {"$in": list(keys)},
            "received_at": {"$gte": since},
            "kind": "complaint",
        }
        return [_prior(d) for d in await find_all(self._history, query, _FIELDS)]

    async def by_issues(
        self, issues: Sequence[tuple[str, str]], *, since: datetime
    ) -> list[PriorComplaint]:
        """Decisions of exactly these (top category, area) pairs since `since`: from this
        process's copy where the issue's change count says nobody else wrote to it since it was
        read (ADR 0044), else read (and kept)."""
        keys = sorted({issue_key(category, area) or "" for category, area in issues})
        counts = await self._counts.read(keys)  # before the entries: see mongo_issue_cache
        read: dict[str, list[PriorComplaint]] = {k: [] for k in self._places.stale(counts, since)}
        if read:
            query = {"issue": {"$in": sorted(read)}, "received_at": {"$gte": since}}
            for doc in await find_all(self._history, query, {**_FIELDS, "issue": 1}):
                read[doc["issue"]].append(_prior(doc))
        found = [
            p for k in keys for p in (read[k] if k in read else self._places.entries(k, since))
        ]
        for key, priors in read.items():
            self._places.load(key, counts[key], since, priors)
        wanted = set(issues)
        return [p for p in found if (_top(p.category), p.area) in wanted]

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Decisions of these whole category paths since `since`, any area."""
        query = {"category": {"$in": sorted(set(categories))}, "received_at": {"$gte": since}}
        return [_prior(d) for d in await find_all(self._history, query, _FIELDS)]
