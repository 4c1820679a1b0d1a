"""Who is told, from MongoDB: the customer's contact data, the staff directory, assignments."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts.read_models import CONTACTS
from notifier.domain import (
    Assignment,
    CustomerContact,
    PolicyError,
    StaffEntry,
    parse_directory,
)
from servicekit.clock import Clock
from servicekit.mongo import Document, find_all, write_in_chunks
from servicekit.read_models import read

log = logging.getLogger(__name__)


class MongoContactBook:
    """Reads intake's declared read model `CONTACTS`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def contacts(self, complaint_ids: Sequence[str]) -> dict[str, CustomerContact]:
        """Phone and e-mail per complaint, where any is on file."""
        if not complaint_ids:
            return {}
        docs = await read(self._db, CONTACTS, {"_id": {"$in": list(complaint_ids)}})
        return {
            doc.id: CustomerContact(doc.phone_e164, doc.email)
            for doc in docs
            if doc.phone_e164 or doc.email
        }


class MongoStaffDirectory:
    """The pack's YAML entries, overlaid by the `staff` collection (re-read every `refresh`)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        static: Sequence[StaffEntry],
        clock: Clock,
        refresh: timedelta = timedelta(seconds=60),
    ) -> None:
        self._staff = db["staff"]
        self._static = list(static)
        self._clock = clock
        self._refresh = refresh
        self._cached: list[StaffEntry] = list(static)
        self._read_at: datetime | None = None

    async def entries(self) -> Sequence[StaffEntry]:
        """Every entry; a collection entry replaces a YAML one with the same id."""
        now = self._clock.now()
        if self._read_at is not None and now - self._read_at < self._refresh:
            return self._cached
        docs = await find_all(self._staff, {})
        try:
            merged = parse_directory(
                [*(entry_document(e) for e in self._static), *({**d, "id": d["_id"]} for d in docs)]
            )
        except PolicyError:
            # A bad document must not silence every staff alert: keep the last good directory.
            log.exception("staff collection has an invalid entry; keeping the previous directory")
            merged = self._cached
        self._cached, self._read_at = merged, now
        return merged


def entry_document(entry: StaffEntry) -> Document:
    """A directory entry as a mapping `StaffEntry.from_mapping` reads back."""
    return {
        "id": entry.id,
        "audiences": sorted(a.value for a in entry.audiences),
        "channel": entry.channel,
        "address": entry.address,
        "department": entry.department,
        "staff_id": entry.staff_id,
    }


class MongoCaseBook:
    """`notifier_assignments`: the latest assignment per case, keyed by complaint id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._assignments = db["notifier_assignments"]

    async def record(self, assignments: Sequence[Assignment]) -> None:
        """Upsert the newest assignment per case; older redeliveries change nothing."""
        newest: dict[str, Assignment] = {}
        for a in assignments:
            if a.complaint_id not in newest or newest[a.complaint_id].occurred_at <= a.occurred_at:
                newest[a.complaint_id] = a
        known = await self.assignments(list(newest))
        ops = [
            UpdateOne(
                {"_id": a.complaint_id},
                {
                    "$set": {
                        "assignee": a.assignee,
                        "department": a.department,
                        "occurred_at": a.occurred_at,
                    }
                },
                upsert=True,
            )
            for cid, a in newest.items()
            if cid not in known or known[cid].occurred_at <= a.occurred_at
        ]
        await write_in_chunks(self._assignments, ops)

    async def assignments(self, complaint_ids: Sequence[str]) -> dict[str, Assignment]:
        """Latest assignment per case, where known."""
        if not complaint_ids:
            return {}
        docs = await find_all(self._assignments, {"_id": {"$in": list(complaint_ids)}})
        return {
            d["_id"]: Assignment(d["_id"], d.get("assignee"), d.get("department"), d["occurred_at"])
            for d in docs
        }
