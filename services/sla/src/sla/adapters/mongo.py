"""SLA state in MongoDB (or FerretDB): `deadlines` and the case fields of `complaints`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Audience, ClockName, SlaChanged
from servicekit.mongo import Document, ensure_index, find_all, write_in_chunks
from servicekit.outbox import Outbox
from sla.ports import StoredDeadline, Threshold

PENDING, FIRING, DONE = "pending", "firing", "done"


def to_document(d: StoredDeadline) -> Document:
    """The stored form of a deadline; `next_fire_at` drives the scheduler's index."""
    nxt = d.next_threshold()
    return {
        "_id": d.deadline_id,
        "complaint_id": d.complaint_id,
        "clock": d.clock.value if d.clock else None,
        "occurrence": d.occurrence,
        "severity": d.severity,
        "started_at": d.started_at,
        "due_at": d.due_at,
        "thresholds": [
            {"percent": t.percent, "at": t.at, "audiences": [a.value for a in t.audiences]}
            for t in d.thresholds
        ],
        "fired": list(d.fired),
        "policy_version": d.policy_version,
        "calendar_version": d.calendar_version,
        "upgrade_to": d.upgrade_to,
        "status": PENDING if nxt else DONE,
        "next_fire_at": nxt.at if nxt else None,
    }


def from_document(doc: dict[str, Any]) -> StoredDeadline:
    """Rebuild a deadline from its stored form."""
    return StoredDeadline(
        deadline_id=doc["_id"],
        complaint_id=doc["complaint_id"],
        clock=ClockName(doc["clock"]) if doc.get("clock") else None,
        occurrence=doc["occurrence"],
        severity=doc["severity"],
        started_at=doc["started_at"],
        due_at=doc["due_at"],
        thresholds=tuple(
            Threshold(t["percent"], t["at"], tuple(Audience(a) for a in t["audiences"]))
            for t in doc["thresholds"]
        ),
        policy_version=doc["policy_version"],
        calendar_version=doc["calendar_version"],
        upgrade_to=doc.get("upgrade_to"),
        fired=tuple(doc.get("fired", ())),
    )


class MongoDeadlineStore:
    """One document per clock occurrence; claimed with a lease so replicas never fire twice."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deadlines = db["deadlines"]

    async def ensure_indexes(self) -> None:
        """Due look-up among millions, and per-complaint access."""
        await ensure_index(self._deadlines, [("status", ASCENDING), ("next_fire_at", ASCENDING)])
        await ensure_index(self._deadlines, [("complaint_id", ASCENDING)])
        await ensure_index(self._deadlines, [("claim", ASCENDING)])

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert-if-absent by deadline id."""
        if deadlines:
            ops = [
                UpdateOne({"_id": d.deadline_id}, {"$setOnInsert": to_document(d)}, upsert=True)
                for d in deadlines
            ]
            await write_in_chunks(self._deadlines, ops)

    async def next_due_at(self) -> datetime | None:
        """Earliest `next_fire_at` among pending and leased deadlines."""
        docs = await find_all(
            self._deadlines,
            {"status": {"$in": [PENDING, FIRING]}},
            {"next_fire_at": 1, "lease_until": 1, "status": 1},
            sort=[("next_fire_at", ASCENDING)],
            limit=1,
        )
        if not docs:
            return None
        doc = docs[0]
        at: datetime | None = doc.get("lease_until") if doc["status"] == FIRING else None
        return at or doc["next_fire_at"]

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Claim due deadlines: a per-document conditional update is the atomic step."""
        due = {
            "$or": [
                {"status": PENDING, "next_fire_at": {"$lte": now}},
                {"status": FIRING, "lease_until": {"$lte": now}},
            ]
        }
        order = [("next_fire_at", ASCENDING)]
        docs = await find_all(self._deadlines, due, {"_id": 1}, sort=order, limit=limit)
        ids = [doc["_id"] for doc in docs]
        if not ids:
            return []
        token = f"{owner}:{uuid.uuid4().hex}"
        await self._deadlines.update_many(
            {"_id": {"$in": ids}, **due},
            {
                "$set": {
                    "status": FIRING,
                    "lease_owner": owner,
                    "lease_until": lease_until,
                    "claim": token,
                }
            },
        )
        return [from_document(doc) for doc in await find_all(self._deadlines, {"claim": token})]

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record the threshold, move `next_fire_at` on, release the lease."""
        done = replace(deadline, fired=(*deadline.fired, percent))
        nxt = done.next_threshold()
        await self._deadlines.update_one(
            {"_id": deadline.deadline_id, "lease_owner": owner, "status": FIRING},
            {
                "$set": {
                    "fired": list(done.fired),
                    "status": PENDING if nxt else DONE,
                    "next_fire_at": nxt.at if nxt else None,
                    "fired_at": datetime.now(UTC),
                    "lease_until": None,
                    "claim": None,
                }
            },
        )

    async def stop_clock(
        self, complaint_id: str, clock: ClockName, *, status: str
    ) -> list[StoredDeadline]:
        """Stop the open deadlines of one clock; also return stops not yet announced."""
        docs = await find_all(self._deadlines, {"complaint_id": complaint_id, "clock": clock.value})
        open_ids = [d["_id"] for d in docs if d["status"] in {PENDING, FIRING}]
        if open_ids:
            await self._deadlines.update_many(
                {"_id": {"$in": open_ids}, "status": {"$in": [PENDING, FIRING]}},
                {
                    "$set": {
                        "status": status,
                        "next_fire_at": None,
                        "announced": False,
                        "stopped_at": datetime.now(UTC),
                    }
                },
            )
        return [
            from_document(d)
            for d in docs
            if d["_id"] in open_ids or (d["status"] == status and d.get("announced") is False)
        ]

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Flag the stops as published."""
        if deadline_ids:
            await self._deadlines.update_many(
                {"_id": {"$in": list(deadline_ids)}}, {"$set": {"announced": True}}
            )


class MongoCaseStore:
    """`cases`: one document per complaint with its state; the clocks-set event via an outbox."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._cases = db["cases"]
        self._outbox = Outbox(self._cases, stage="sla", event_type=SlaChanged)

    async def save_started(self, events: Sequence[tuple[str, str, SlaChanged | None]]) -> None:
        """Record the state, and the clocks-set event for complaints that got clocks."""
        ops = [
            self._outbox.insert(complaint_id, event, {"state": state})
            if event is not None
            else UpdateOne({"_id": complaint_id}, {"$setOnInsert": {"state": state}}, upsert=True)
            for complaint_id, state, event in events
        ]
        if ops:
            await write_in_chunks(self._cases, ops)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Clocks-set events not yet confirmed on Kafka."""
        return await self._outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self._outbox.mark_published(complaint_ids)
