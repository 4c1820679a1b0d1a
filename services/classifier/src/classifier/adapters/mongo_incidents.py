"""The `incidents` collection's members and announcements (what downstream was told)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from classifier.domain import IncidentState, Member
from contracts import Channel, CustomerTier, IncidentRecord
from servicekit.mongo import Document, find_all

_EVENT = "classified_event.data"
"""Where the outbox keeps the stored decision (`<stage>_event`, servicekit.outbox)."""


def _member(doc: dict[str, Any]) -> Member:
    data = doc.get("classified_event", {}).get("data", {})
    return Member(
        complaint_id=doc["_id"],
        received_at=doc["received_at"],
        channel=Channel(doc.get("channel") or data["channel"]),
        tier=CustomerTier(doc.get("customer_tier") or data.get("customer_tier") or "standard"),
    )


async def incident_states(
    incidents: AsyncCollection[Document],
    classifications: AsyncCollection[Document],
    incident_ids: Sequence[str],
) -> list[IncidentState]:
    """Each incident with its members read from their decisions (one batch read by `_id`)."""
    if not incident_ids:
        return []
    docs = await find_all(
        incidents,
        {"_id": {"$in": list(incident_ids)}},
        {
            "complaint_ids": 1,
            "removed_ids": 1,
            "announced": 1,
            "sequence": 1,
            "opened_by": 1,
            "opened_with": 1,
            "closed_at": 1,
        },
    )
    wanted = sorted({c for doc in docs for c in doc.get("complaint_ids", [])})
    members = {
        doc["_id"]: _member(doc)
        for doc in await find_all(
            classifications,
            {"_id": {"$in": wanted}},
            {
                "received_at": 1,
                "channel": 1,
                "customer_tier": 1,
                f"{_EVENT}.channel": 1,
                f"{_EVENT}.customer_tier": 1,
            },
        )
    }
    return [
        IncidentState(
            incident_id=doc["_id"],
            members=tuple(
                members[c]
                for c in doc.get("complaint_ids", [])
                if c in members and c not in doc.get("removed_ids", [])  # taken out by staff
            ),
            announced=frozenset(doc.get("announced", [])),
            sequence=int(doc.get("sequence", 0)),
            opened_by=doc.get("opened_by"),
            opened_with=doc.get("opened_with"),
            closed=doc.get("closed_at") is not None,
        )
        for doc in docs
    ]


async def mark_announced(incidents: AsyncCollection[Document], told: IncidentRecord) -> None:
    """Add the members told of; the sequence only grows (`$max`), so a replay changes nothing."""
    await incidents.update_one(
        {"_id": told.incident_id},
        {
            "$addToSet": {"announced": {"$each": list(told.added_ids)}},
            "$max": {"sequence": told.sequence},
            "$set": {"opened_by": told.opened_by, "opened_with": told.opened_with},
        },
    )
