"""`incident_members`: one document per complaint that belongs to an incident."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from notifier.domain import IncidentMember
from servicekit.mongo import Document, find_all, write_in_chunks


class MongoIncidentBook:
    """Keyed by complaint id, so a look-up is one `_id` read and a join an upsert."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._members = db["incident_members"]

    async def join(self, members: Sequence[IncidentMember]) -> None:
        """Upsert each membership (the incident's latest view wins)."""
        await write_in_chunks(
            self._members,
            [
                UpdateOne(
                    {"_id": m.complaint_id},
                    {
                        "$set": {
                            "incident_id": m.incident_id,
                            "category": m.category,
                            "first_seen": m.first_seen,
                        }
                    },
                    upsert=True,
                )
                for m in members
            ],
        )

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
