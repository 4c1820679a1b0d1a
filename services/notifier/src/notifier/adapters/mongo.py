"""Notifier state in MongoDB (or FerretDB)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from contracts import Audience
from notifier.domain import Intent
from notifier.ports import Outcome
from servicekit.mongo import Document, ensure_index, find_all, write_in_chunks

DUPLICATE_KEY = 11000


class MongoNotificationLog:
    """Claims by inserting the key: the unique `_id` makes a second claim fail."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._notifications = db["notifications"]

    async def ensure_indexes(self) -> None:
        """Per-complaint history and status reporting."""
        await ensure_index(self._notifications, [("complaint_id", ASCENDING)])
        await ensure_index(self._notifications, [("status", ASCENDING), ("claimed_at", ASCENDING)])

    async def claim(
        self, intents: Sequence[Intent], *, now: datetime, stale_before: datetime
    ) -> list[Intent]:
        """Insert a 'sending' claim per intent; duplicates are someone else's, unless stale."""
        by_key = {i.key: i for i in intents}
        if not by_key:
            return []
        docs = [
            {
                "_id": i.key,
                "complaint_id": i.complaint_id,
                "audience": i.audience.value,
                "template": i.template,
                "status": "sending",
                "claimed_at": now,
            }
            for i in by_key.values()
        ]
        taken: set[str] = set()
        try:
            await self._notifications.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            taken = {docs[e["index"]]["_id"] for e in errors}
        claimed = [i for k, i in by_key.items() if k not in taken]
        for key in taken:
            result = await self._notifications.update_one(
                {"_id": key, "status": "sending", "claimed_at": {"$lt": stale_before}},
                {"$set": {"claimed_at": now}},
            )
            if result.modified_count:
                claimed.append(by_key[key])
        return claimed

    async def complete(self, outcomes: Sequence[Outcome], *, now: datetime) -> None:
        """Store each outcome on its claim; the receipt is published afterwards."""
        ops = [
            UpdateOne(
                {"_id": o.intent.key},
                {
                    "$set": {
                        "status": o.status,
                        "channel": o.channel,
                        "attempts": o.attempts,
                        "recipient": o.recipient,
                        "reason": o.reason,
                        "latency_ms": o.latency_ms,
                        "trigger_time": o.intent.trigger_time,
                        "completed_at": now,
                        "receipted": False,
                    }
                },
            )
            for o in outcomes
        ]
        await write_in_chunks(self._notifications, ops)

    async def unreceipted(self, keys: Sequence[str]) -> list[Outcome]:
        """Ended notifications whose receipt was not published (the sender died in between)."""
        if not keys:
            return []
        docs = await find_all(self._notifications, {"_id": {"$in": list(keys)}})
        return [
            Outcome(
                intent=Intent(
                    key=d["_id"],
                    complaint_id=d["complaint_id"],
                    audience=Audience(d["audience"]),
                    template=d["template"],
                    trigger_time=d["trigger_time"],
                ),
                channel=d["channel"],
                status=d["status"],
                attempts=d["attempts"],
                recipient=d.get("recipient"),
                reason=d.get("reason"),
                latency_ms=d.get("latency_ms"),
            )
            for d in docs
            if d.get("receipted") is False
        ]

    async def mark_receipted(self, keys: Sequence[str]) -> None:
        """Flag the receipts as published."""
        if keys:
            await self._notifications.update_many(
                {"_id": {"$in": list(keys)}}, {"$set": {"receipted": True}}
            )


class MongoContactBook:
    """Reads `contacts`, which intake writes."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._contacts = db["contacts"]

    async def phones(self, complaint_ids: Sequence[str]) -> dict[str, str]:
        """Phone per complaint, where known."""
        if not complaint_ids:
            return {}
        docs = await find_all(
            self._contacts, {"_id": {"$in": list(complaint_ids)}}, {"phone_e164": 1}
        )
        return {doc["_id"]: doc["phone_e164"] for doc in docs if doc.get("phone_e164")}
