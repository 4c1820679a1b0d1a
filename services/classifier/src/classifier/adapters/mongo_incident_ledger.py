"""Operations' changes to the `incidents` collection (close, merge, take members out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from classifier.domain import IncidentRow, Standing
from servicekit.mongo import Document, find_all


def standing_of(doc: dict[str, Any]) -> Standing:
    """The closed / merged fields of an incident document."""
    return Standing(
        closed_at=doc.get("closed_at"),
        resolution=doc.get("resolution"),
        merged_into=doc.get("merged_into"),
        closed_by=doc.get("closed_by"),
    )


class MongoIncidentLedger:
    """Incidents are few (one per burst): the list reads them whole, writes go by `_id`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._incidents = db["incidents"]

    async def incidents(self, *, open_only: bool | None = None) -> list[IncidentRow]:
        """Every incident (or the open / closed ones), last seen latest first."""
        where: Document = {}
        if open_only is not None:
            where = {"closed_at": None} if open_only else {"closed_at": {"$ne": None}}
        docs = await find_all(
            self._incidents,
            where,
            {"announced": 0},
            sort=[("last_seen", DESCENDING)],
        )
        return [
            IncidentRow(
                incident_id=d["_id"],
                category=d["category"],
                area=d["area"],
                first_seen=d["first_seen"],
                last_seen=d["last_seen"],
                count=len(d.get("complaint_ids", [])),
                standing=standing_of(d),
            )
            for d in docs
        ]

    async def close(self, incident_id: str, *, sequence: int, standing: Standing) -> None:
        """Closed fields set once; the sequence only grows."""
        await self._incidents.update_one(
            {"_id": incident_id, "closed_at": None},
            {
                "$set": {
                    "closed_at": standing.closed_at,
                    "resolution": standing.resolution,
                    "merged_into": standing.merged_into,
                    "closed_by": standing.closed_by,
                },
                "$max": {"sequence": sequence},
            },
        )

    async def take_out(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Pull the members and remember them as removed (sightings never re-add them)."""
        await self._incidents.update_one(
            {"_id": incident_id},
            {
                "$pullAll": {"complaint_ids": list(complaint_ids)},
                "$addToSet": {"removed_ids": {"$each": list(complaint_ids)}},
                "$max": {"sequence": sequence},
            },
        )

    async def take_in(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Add the members as announced (they were told under the incident merged in)."""
        await self._incidents.update_one(
            {"_id": incident_id},
            {
                "$addToSet": {
                    "complaint_ids": {"$each": list(complaint_ids)},
                    "announced": {"$each": list(complaint_ids)},
                },
                "$pullAll": {"removed_ids": list(complaint_ids)},
                "$max": {"sequence": sequence},
            },
        )
