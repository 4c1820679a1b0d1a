"""SLA deadlines in MongoDB (or FerretDB): `deadlines`, `deadline_sets` and the slot index."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import (
    ClockName,
)
from servicekit.clock import Clock
from servicekit.mongo import Document, ensure_index, find_all, insert_new, write_in_chunks
from sla.adapters.deadline_documents import (
    DONE,
    FIRING,
    PENDING,
    RUNNING,
    from_document,
    ms,
    next_threshold,
    thresholds_doc,
    thresholds_of,
    to_document,
)
from sla.adapters.slots import Entry, SlotIndex
from sla.ports import (
    ClockRecord,
    StoredDeadline,
    Threshold,
)

CAS_ATTEMPTS = 20
PARALLEL_CLAIMS = 16


class ConcurrentUpdateError(RuntimeError):
    """A document kept changing under a compare-and-set loop (retry the batch)."""


class MongoDeadlineStore:
    """One document per clock occurrence, found through the slot index, claimed with a lease.

    Every read and write addresses documents by `_id` (FerretDB pushes nothing else down): due
    fire times come from `SlotIndex`, a complaint's deadlines from its entry in `deadline_sets`.
    Writes that change a deadline's plan are compare-and-set on its `plan` counter.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        clock: Clock,
        slot_width: int = 10,
        time_scale: float = 1.0,
    ) -> None:
        self._deadlines = db["deadlines"]
        self._sets = db["deadline_sets"]
        # Slots hold business time; on a scaled demo clock they widen so a real second still
        # spans about one slot, and writes in flight get the same real time to land.
        self._index = SlotIndex(
            db,
            width=max(1, round(slot_width * time_scale)),
            settle=timedelta(seconds=10 * time_scale),
        )
        self._clock = clock
        self._upcoming: datetime | None = None
        self._claimed: dict[Entry, int] = {}
        self._leased: dict[str, Document] = {}

    async def ensure_indexes(self) -> None:
        """Per-complaint and due look-ups for MongoDB's own planner (FerretDB ignores them)."""
        await ensure_index(self._deadlines, [("status", ASCENDING), ("next_fire_at", ASCENDING)])
        await ensure_index(self._deadlines, [("complaint_id", ASCENDING)])

    async def _index_entries(self, entries: Sequence[tuple[str, Threshold]]) -> None:
        await self._index.add([(i, ms(t.at), t.percent) for i, t in entries], now=self._clock.now())

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert-if-absent by deadline id, listed under the complaint, indexed by fire time."""
        if not deadlines:
            return
        by_complaint: dict[str, list[str]] = {}
        for d in deadlines:
            by_complaint.setdefault(d.complaint_id, []).append(d.deadline_id)
        # A new complaint's list is inserted whole; one that has a list (reopened) adds to it.
        taken = await insert_new(
            self._sets,
            [{"_id": cid, "ids": list(dict.fromkeys(ids))} for cid, ids in by_complaint.items()],
        )
        await write_in_chunks(
            self._sets,
            [
                UpdateOne({"_id": cid}, {"$addToSet": {"ids": {"$each": by_complaint[cid]}}})
                for cid in sorted(taken)
            ],
        )
        await self._index_entries(
            [(d.deadline_id, nxt) for d in deadlines if (nxt := d.next_threshold())]
        )
        await insert_new(self._deadlines, [to_document(d) for d in deadlines])

    async def next_due_at(self) -> datetime | None:
        """The earliest unsettled fire time seen ahead of now in the last round (no I/O)."""
        return self._upcoming

    async def _one(self, deadline_id: str) -> Document | None:
        docs = await find_all(self._deadlines, {"_id": deadline_id})
        return docs[0] if docs else None

    async def _try_claim(
        self, slot: int, entry: Entry, *, now: datetime, owner: str, until: datetime
    ) -> StoredDeadline | None:
        deadline_id, at, percent = entry
        doc = await self._deadlines.find_one_and_update(
            {
                "_id": deadline_id,
                "next_fire_at": at,
                "next_percent": percent,
                "$or": [{"status": PENDING}, {"status": FIRING, "lease_until": {"$lte": now}}],
            },
            {"$set": {"status": FIRING, "lease_owner": owner, "lease_until": until}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            self._claimed[entry] = slot
            self._leased[deadline_id] = doc  # fired() starts from this copy
            return from_document(doc)
        current = await self._one(deadline_id)
        if current is None:
            return None  # the entry was indexed before its deadline was written: look again
        planned = any(t["percent"] == percent and t["at"] == at for t in current["thresholds"])
        if current["status"] not in RUNNING or not planned or percent in current.get("fired", ()):
            # Settled only on durable facts: stopped, re-planned, or fired. Anything else (an
            # earlier threshold still firing, another replica's live lease) is retried.
            self._index.settled(slot, entry)
        return None

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Claim due entries of the slots from the watermark to now; then move the watermark."""
        first = await self._index.watermark()
        if first is None:
            return []
        self._index.forget(before=first)  # another replica may have moved the watermark
        slots = self._index.span(first, now + timedelta(seconds=self._index.width))
        entries = await self._index.read(slots)
        due = [
            (slot, entry)
            for slot in slots
            for entry in entries[slot]
            if entry[1] <= now and not self._index.is_settled(slot, entry)
        ][:limit]
        claimed: list[StoredDeadline] = []
        for start in range(0, len(due), PARALLEL_CLAIMS):
            results = await asyncio.gather(
                *(
                    self._try_claim(slot, entry, now=now, owner=owner, until=lease_until)
                    for slot, entry in due[start : start + PARALLEL_CLAIMS]
                )
            )
            claimed += [d for d in results if d is not None]
        ahead = [e[1] for slot in slots for e in entries[slot] if e[1] > now]
        self._upcoming = min(ahead, default=None)
        await self._index.advance(frm=first, entries=entries, now=now)
        return claimed

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record the threshold, index the next one, release the lease (if still ours)."""
        doc: Document | None = self._leased.pop(deadline.deadline_id, None)
        for _ in range(CAS_ATTEMPTS):
            doc = doc or await self._one(deadline.deadline_id)
            if doc is None or doc["status"] != FIRING or doc.get("lease_owner") != owner:
                return  # stopped meanwhile, or the lease passed to another replica
            fired = sorted({*doc.get("fired", ()), percent})
            nxt = next_threshold(thresholds_of(doc["thresholds"]), fired)
            if nxt is not None:
                await self._index_entries([(deadline.deadline_id, nxt)])
            done = await self._deadlines.update_one(
                {"_id": deadline.deadline_id, "plan": doc.get("plan", 0), "status": FIRING},
                {
                    "$set": {
                        "fired": fired,
                        "outcome": "overdue" if 100 in fired else "",
                        "status": PENDING if nxt or doc.get("clock") else DONE,
                        "next_fire_at": ms(nxt.at) if nxt else None,
                        "next_percent": nxt.percent if nxt else None,
                        "fired_at": self._clock.now(),
                        "lease_owner": None,
                        "lease_until": None,
                    },
                    "$inc": {"plan": 1},
                },
            )
            if done.modified_count:
                entry = (deadline.deadline_id, doc["next_fire_at"], doc.get("next_percent", 0))
                if (slot := self._claimed.pop(entry, None)) is not None:
                    self._index.settled(slot, entry)
                return
            doc = None  # changed under us (re-planned): read it again
        raise ConcurrentUpdateError(deadline.deadline_id)

    async def _of(self, complaint_id: str) -> list[Document]:
        sets = await find_all(self._sets, {"_id": complaint_id})
        found = await asyncio.gather(*(self._one(i) for i in (sets[0]["ids"] if sets else [])))
        return [doc for doc in found if doc is not None]

    async def open_for(self, complaint_id: str) -> list[StoredDeadline]:
        """The complaint's running deadlines."""
        return [from_document(d) for d in await self._of(complaint_id) if d["status"] in RUNNING]

    async def replan(self, deadlines: Sequence[StoredDeadline], *, action_id: str) -> None:
        """New due / threshold times of running deadlines, once per action (compare-and-set)."""
        for d in deadlines:
            await self._replan_one(d, action_id=action_id)

    async def _replan_one(self, d: StoredDeadline, *, action_id: str) -> None:
        for _ in range(CAS_ATTEMPTS):
            doc = await self._one(d.deadline_id)
            if doc is None or doc["status"] not in RUNNING or action_id in doc.get("applied", ()):
                return
            nxt = next_threshold(d.thresholds, doc.get("fired", ()))
            if nxt is not None:
                await self._index_entries([(d.deadline_id, nxt)])
            base = d.pause_base
            done = await self._deadlines.update_one(
                {"_id": d.deadline_id, "plan": doc.get("plan", 0)},
                {
                    "$set": {
                        "due_at": ms(d.due_at),
                        "thresholds": thresholds_doc(d.thresholds),
                        "calendar_version": d.calendar_version,
                        "pause_base": (
                            {"due_at": ms(base[0]), "thresholds": thresholds_doc(base[1])}
                            if base
                            else None
                        ),
                        "next_fire_at": ms(nxt.at) if nxt else None,
                        "next_percent": nxt.percent if nxt else None,
                        "status": doc["status"] if nxt or doc.get("clock") else DONE,
                    },
                    "$inc": {"plan": 1},
                    "$push": {"applied": action_id},
                },
            )
            if done.modified_count:
                return
        raise ConcurrentUpdateError(d.deadline_id)

    async def census(self) -> list[tuple[str, str, str, str, int]]:
        """Counts grouped on the server (a scan on FerretDB: run it every minute, not per event)."""
        pipeline = [
            {
                "$group": {
                    "_id": {
                        "clock": "$clock",
                        "severity": "$severity",
                        "status": "$status",
                        "outcome": "$outcome",
                    },
                    "n": {"$sum": 1},
                }
            }
        ]
        rows = await (await self._deadlines.aggregate(pipeline)).to_list(None)
        return [
            (
                r["_id"].get("clock") or "upgrade",
                r["_id"].get("severity") or "",
                r["_id"].get("status") or "",
                r["_id"].get("outcome") or "",
                int(r["n"]),
            )
            for r in rows
        ]

    async def stop_clocks(
        self,
        complaint_id: str,
        clocks: Collection[ClockName | None],
        *,
        status: str,
        at: datetime,
    ) -> list[StoredDeadline]:
        """Stop the running deadlines of these clocks; also return stops not yet announced."""
        wanted = {clock.value if clock else None for clock in clocks}
        docs = [d for d in await self._of(complaint_id) if d.get("clock") in wanted]
        stopped: list[StoredDeadline] = []
        for doc in docs:
            if doc["status"] in RUNNING:
                on_time = at <= doc["due_at"]
                outcome = ("on_time" if on_time else "late") if status == "met" else ""
                result = await self._deadlines.update_one(
                    {"_id": doc["_id"], "status": {"$in": list(RUNNING)}},
                    {
                        "$set": {
                            "outcome": outcome,
                            "status": status,
                            "next_fire_at": None,
                            "announced": False,
                            "stopped_at": at,
                        },
                        "$inc": {"plan": 1},
                    },
                )
                if result.modified_count:
                    stopped.append(from_document(doc))
            elif doc["status"] == status and doc.get("announced") is False:
                stopped.append(from_document(doc))
        return stopped

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Flag the stops as published."""
        for deadline_id in deadline_ids:
            await self._deadlines.update_one({"_id": deadline_id}, {"$set": {"announced": True}})


class MongoClockReader:
    """The case queries' read-only view of `deadlines` (by `_id` per case, a scan across cases)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deadlines = db["deadlines"]
        self._sets = db["deadline_sets"]

    async def clocks_of(self, complaint_id: str) -> list[ClockRecord]:
        """Every deadline listed under the complaint."""
        sets = await find_all(self._sets, {"_id": complaint_id})
        ids = sets[0]["ids"] if sets else []
        found = await asyncio.gather(*(find_all(self._deadlines, {"_id": i}) for i in ids))
        return [
            ClockRecord(from_document(doc), doc["status"], doc.get("stopped_at"))
            for docs in found
            for doc in docs
        ]

    async def running_due_by(self, at: datetime) -> list[StoredDeadline]:
        """Running clocks due by `at` (a scan: the list endpoint runs it, not the pipeline)."""
        return await self._running({"due_at": {"$lte": at}})

    async def running_of(self, complaint_ids: Sequence[str]) -> list[StoredDeadline]:
        """Running clocks of a page of cases (one scan rather than a look-up per deadline)."""
        return await self._running({"complaint_id": {"$in": list(complaint_ids)}})

    async def _running(self, query: Document) -> list[StoredDeadline]:
        docs = await find_all(self._deadlines, {"status": {"$in": list(RUNNING)}, **query})
        return [from_document(doc) for doc in docs if doc.get("clock") is not None]
