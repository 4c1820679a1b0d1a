"""`incident_members`: one document per complaint that belongs to an incident."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from notifier.domain import IncidentMember
from servicekit.mongo import Document, find_all, insert_new

IDS_PER_STATEMENT = 500
"""Keys per `_id $in` update (as many as one batch insert holds)."""


def _document(m: IncidentMember) -> Document:
    return {
        "_id": m.complaint_id,
        "incident_id": m.incident_id,
        "category": m.category,
        "first_seen": m.first_seen,
    }


class MongoIncidentBook:
    """Keyed by complaint id, so a look-up is one `_id $in` read and a join a batched insert."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._members = db["incident_members"]

    async def join(self, members: Sequence[IncidentMember]) -> None:
        """Record each membership, the latest view winning: one batched insert of them all, and
        for those already recorded (a grown or merged incident, a redelivery) one `update_many`
        per distinct view — not one write per member (a storm joins hundreds per batch)."""
        latest = {m.complaint_id: m for m in members}
        taken = await insert_new(self._members, [_document(m) for m in latest.values()])
        views: dict[tuple[str, str, datetime], list[str]] = {}
        for complaint_id in sorted(taken):
            m = latest[complaint_id]
            views.setdefault((m.incident_id, m.category, m.first_seen), []).append(complaint_id)
        for (incident_id, category, first_seen), ids in views.items():
            view = {"incident_id": incident_id, "category": category, "first_seen": first_seen}
            for start in range(0, len(ids), IDS_PER_STATEMENT):
                chunk = ids[start : start + IDS_PER_STATEMENT]
                await self._members.update_many({"_id": {"$in": chunk}}, {"$set": view})

    async def members(self, complaint_ids: Sequence[str]) -> dict[str, IncidentMember]:
        """The known memberships among `complaint_ids`."""
        if not complaint_ids:
            return {}
        docs = await find_all(self._members, {"_id": {"$in": list(complaint_ids)}})
        return {
            d["_id"]: IncidentMember(d["_id"], d["incident_id"], d["category"], d["first_seen"])
            for d in docs
        }

    async def leave(self, complaint_ids: Sequence[str]) -> None:
        """Forget these memberships."""
        if complaint_ids:
            await self._members.delete_many({"_id": {"$in": list(complaint_ids)}})
