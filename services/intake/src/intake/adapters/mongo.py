"""Intake's collections in MongoDB (or FerretDB)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts import ComplaintNormalized
from intake.ports import IntakeRecord, PriorText
from servicekit.mongo import Document, ensure_index, find_all, insert_new
from servicekit.outbox import Decisions, Stored


class MongoComplaintStore:
    """`complaints` holds the projection (masked); `contacts` the raw contact for the notifier."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._complaints = db["complaints"]
        self._contacts = db["contacts"]
        self._keys = db["intake_keys"]
        self._decisions = Decisions(
            self._complaints, stage="normalized", event_type=ComplaintNormalized
        )

    async def ensure_indexes(self) -> None:
        """Indexes for duplicate look-ups and reporting."""
        await ensure_index(
            self._complaints, [("complainant_key", ASCENDING), ("received_at", ASCENDING)]
        )
        await ensure_index(self._complaints, [("received_at", ASCENDING)])

    async def claim_external_ids(self, keys: Mapping[str, str]) -> dict[str, str]:
        """Map "channel:external_id" to the first complaint id (primary-key upserts)."""
        if not keys:
            return {}
        taken = await insert_new(
            self._keys, [{"_id": key, "complaint_id": cid} for key, cid in keys.items()]
        )
        first = {key: cid for key, cid in keys.items() if key not in taken}
        if taken:
            docs = await find_all(self._keys, {"_id": {"$in": sorted(taken)}})
            first |= {doc["_id"]: doc["complaint_id"] for doc in docs}
        return first

    async def save(self, records: Sequence[IntakeRecord]) -> Stored[ComplaintNormalized]:
        """Insert-if-absent keyed by complaint id; redelivery and replays change nothing."""
        if not records:
            return Stored([], frozenset())
        now = datetime.now(UTC)
        complaints, contacts = [], []
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
                        "text": data.text,
                        # Channel payloads are kept verbatim as JSON text: nothing a channel
                        # sends can be read by MongoDB as an operator or a dotted path.
                        "original_json": json.dumps(
                            record.original, ensure_ascii=False, default=str
                        ),
                        "normalized_at": now,
                    },
                )
            )
            contacts.append(
                {
                    "_id": data.complaint_id,
                    **asdict(record.contact),
                    "complainant_key": data.complainant_key,
                }
            )
        # Contacts first: a stored complaint (whose event may be republished) has its contact.
        await insert_new(self._contacts, contacts)
        return await self._decisions.store(complaints)

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
