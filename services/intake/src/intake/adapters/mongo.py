"""Intake's collections in MongoDB (or FerretDB)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import ComplaintNormalized
from intake.ports import IntakeRecord, PriorText
from servicekit.mongo import Document, ensure_index, find_all, write_in_chunks
from servicekit.outbox import Outbox


class MongoComplaintStore:
    """`complaints` holds the projection (masked); `contacts` the raw contact for the notifier."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._complaints = db["complaints"]
        self._contacts = db["contacts"]
        self._keys = db["intake_keys"]
        self._outbox = Outbox(self._complaints, stage="normalized", event_type=ComplaintNormalized)

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
        await write_in_chunks(
            self._keys,
            [
                UpdateOne({"_id": key}, {"$setOnInsert": {"complaint_id": cid}}, upsert=True)
                for key, cid in keys.items()
            ],
        )
        docs = await find_all(self._keys, {"_id": {"$in": list(keys)}})
        return {doc["_id"]: doc["complaint_id"] for doc in docs}

    async def save(self, records: Sequence[IntakeRecord]) -> None:
        """Insert-if-absent keyed by complaint id; redelivery and replays change nothing."""
        if not records:
            return
        now = datetime.now(UTC)
        complaints, contacts = [], []
        for record in records:
            data = record.event.data
            complaints.append(
                self._outbox.insert(
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
                UpdateOne(
                    {"_id": data.complaint_id},
                    {
                        "$setOnInsert": {
                            **asdict(record.contact),
                            "complainant_key": data.complainant_key,
                        }
                    },
                    upsert=True,
                )
            )
        await write_in_chunks(self._complaints, complaints)
        await write_in_chunks(self._contacts, contacts)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[ComplaintNormalized]:
        """Stored events not yet confirmed on Kafka."""
        return await self._outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self._outbox.mark_published(complaint_ids)

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
