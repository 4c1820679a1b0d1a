"""Intake's collections in MongoDB (or FerretDB)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts import ComplaintNormalized
from intake.ports import IntakeRecord, PriorText, RequestClaim
from servicekit.mongo import Document, ensure_index, find_all, insert_new
from servicekit.outbox import Decisions, MissingDocumentsError, Stored

PERSONAL_DATA_COLLECTIONS = frozenset({"contacts", "raw_payloads"})
"""The only collections of the pipeline that hold phone and ID numbers, names and addresses."""
PRUNE_CHUNK = 1_000
"""Raw payloads deleted per `delete` command (an `_id $in` list; batched, never one by one)."""
INTAKE_KEY = "intake_key"
"""The complaint's "channel:external_id" (unique): the insert itself refuses a replay."""
REQUEST_KEY = "request:"
"""`intake_keys` ids of HTTP Idempotency-Keys ("request:<channel>:<key>"); a colon-free channel
name never starts with it, so they never meet the (channel, external id) claims."""


def pack(event: ComplaintNormalized) -> Document:
    """The stored event: its simplified text only where it differs (mostly it is the same)."""
    doc = event.model_dump(mode="json")
    if doc["data"]["text_simplified"] == doc["data"]["text"]:
        del doc["data"]["text_simplified"]
    return doc


def unpack(doc: Document) -> ComplaintNormalized:
    """The event `pack` stored, whole again (byte for byte what was first published)."""
    data = doc["data"]
    if "text_simplified" not in data:
        doc = {**doc, "data": {**data, "text_simplified": data["text"]}}
    return ComplaintNormalized.model_validate(doc)


class MongoComplaintStore:
    """`complaints` holds the masked projection and the event (the text once, masked);
    `contacts` the raw contact for the notifier; `raw_payloads` the channel's payload as it
    came (names, numbers), restricted and kept for the retention period only."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._complaints = db["complaints"]
        self._contacts = db["contacts"]
        self._raw = db["raw_payloads"]
        self._keys = db["intake_keys"]
        self._decisions = Decisions(
            self._complaints,
            stage="normalized",
            event_type=ComplaintNormalized,
            pack=pack,
            unpack=unpack,
        )

    async def ensure_indexes(self) -> None:
        """Indexes for duplicate look-ups, reporting and the raw payloads' retention."""
        await ensure_index(
            self._complaints, [("complainant_key", ASCENDING), ("received_at", ASCENDING)]
        )
        await ensure_index(self._complaints, [("received_at", ASCENDING)])
        # The message's identity: a replay on another day (another complaint id) fails to insert.
        # Sparse: complaints without an external id have no key.
        await ensure_index(self._complaints, [(INTAKE_KEY, ASCENDING)], unique=True, sparse=True)
        await ensure_index(self._raw, [("received_at", ASCENDING)])

    async def first_complaints(self, keys: Sequence[str]) -> dict[str, str]:
        """One read by the unique `intake_key` index (narrowed by it on the local FerretDB)."""
        if not keys:
            return {}
        docs = await find_all(
            self._complaints, {INTAKE_KEY: {"$in": sorted(set(keys))}}, {INTAKE_KEY: 1}
        )
        return {doc[INTAKE_KEY]: doc["_id"] for doc in docs}

    async def claim_request(self, key: str, digest: str, complaint_id: str) -> RequestClaim:
        """Insert-if-absent on the key; the stored (first) digest and complaint id."""
        _id = REQUEST_KEY + key
        mine = {"_id": _id, "digest": digest, "complaint_id": complaint_id}
        if not await insert_new(self._keys, [mine]):
            return RequestClaim(digest, complaint_id)
        [first] = await find_all(self._keys, {"_id": _id})
        return RequestClaim(str(first["digest"]), str(first["complaint_id"]))

    async def save(self, records: Sequence[IntakeRecord]) -> Stored[ComplaintNormalized]:
        """Insert-if-absent keyed by complaint id; redelivery and replays change nothing."""
        if not records:
            return Stored([], frozenset())
        now = datetime.now(UTC)
        complaints, contacts, raw = [], [], []
        for record in records:
            data = record.event.data
            complaints.append(
                (
                    data.complaint_id,
                    record.event,
                    {
                        "channel": data.channel.value,
                        "external_id": data.external_id,
                        "received_at": data.received_at,
                        "complainant_key": data.complainant_key,
                        "duplicate_of": data.duplicate_of,
                        "fingerprint": record.fingerprint,
                        "normalized_at": now,
                    }
                    | ({INTAKE_KEY: record.key} if record.key else {}),
                )
            )
            contacts.append(
                {
                    "_id": data.complaint_id,
                    **asdict(record.contact),
                    "complainant_key": data.complainant_key,
                }
            )
            raw.append(
                {
                    "_id": data.complaint_id,
                    "channel": data.channel.value,
                    "received_at": data.received_at,
                    # Kept verbatim as JSON text: nothing a channel sends can be read by
                    # MongoDB as an operator or a dotted path.
                    "original_json": json.dumps(record.original, ensure_ascii=False, default=str),
                }
            )
        # Contacts and payload first (together: one round trip's wait): a stored complaint
        # (whose event may be republished) has both. All three are insert-if-absent, so a
        # redelivery repeats them harmlessly.
        await asyncio.gather(insert_new(self._contacts, contacts), insert_new(self._raw, raw))
        taken = await insert_new(
            self._complaints, [self._decisions.document(*entry) for entry in complaints]
        )
        stored = await self._decisions.stored(sorted(taken)) if taken else {}
        replays = [r for r in records if r.event.data.complaint_id in taken - stored.keys()]
        firsts = await self._firsts(replays)
        chosen: dict[str, ComplaintNormalized] = {}
        for record in records:
            cid = record.event.data.complaint_id
            event = stored.get(cid) or firsts.get(record.key or "") or record.event
            if cid in taken and event is record.event:
                raise MissingDocumentsError(f"complaint {cid} is taken but not readable")
            chosen.setdefault(event.data.complaint_id, event)
        new = frozenset(r.event.data.complaint_id for r in records) - taken
        return Stored(list(chosen.values()), new)

    async def _firsts(self, replays: Sequence[IntakeRecord]) -> dict[str, ComplaintNormalized]:
        """Records whose key another complaint took (a replica stored the replay first): that
        complaint's stored event by key; their own contact and payload go again."""
        if not replays:
            return {}
        ids = [r.event.data.complaint_id for r in replays]
        await self._contacts.delete_many({"_id": {"$in": ids}})
        await self._raw.delete_many({"_id": {"$in": ids}})
        keys = sorted({r.key for r in replays if r.key})
        field = self._decisions.field
        docs = await find_all(
            self._complaints, {INTAKE_KEY: {"$in": keys}}, {INTAKE_KEY: 1, field: 1}
        )
        return {d[INTAKE_KEY]: unpack(d[field]) for d in docs}

    async def stored(self, complaint_ids: Sequence[str]) -> list[ComplaintNormalized]:
        """Stored events of these complaints, in that order (one `$in` read)."""
        found = await self._decisions.stored(complaint_ids)
        return [found[c] for c in complaint_ids if c in found]

    async def recent_by_complainant(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorText]:
        """Earlier complaints of these complainants since `since`."""
        if not keys:
            return []
        docs = await find_all(
            self._complaints,
            {"complainant_key": {"$in": list(keys)}, "received_at": {"$gte": since}},
            {"complainant_key": 1, "fingerprint": 1, "received_at": 1},
        )
        return [
            PriorText(doc["_id"], doc["complainant_key"], doc["fingerprint"], doc["received_at"])
            for doc in docs
        ]

    async def prune_raw_payloads(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` raw payloads received before `before`; how many went.

        FerretDB has no TTL indexes, so the service prunes: one read of the expired ids, then
        `_id $in` deletes of `PRUNE_CHUNK` each.
        """
        expired = await find_all(
            self._raw, {"received_at": {"$lt": before}}, {"_id": 1}, limit=limit
        )
        ids = [doc["_id"] for doc in expired]
        deleted = 0
        for start in range(0, len(ids), PRUNE_CHUNK):
            chunk = ids[start : start + PRUNE_CHUNK]
            deleted += (await self._raw.delete_many({"_id": {"$in": chunk}})).deleted_count
        return deleted
