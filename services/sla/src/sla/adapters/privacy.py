"""The privacy endpoints' stores: intake's contacts (read model) and the SLA's access log."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts.read_models import STAFF_CONTACTS
from servicekit.mongo import Document, ensure_index, find_all
from servicekit.read_models import read
from sla.privacy.contact import AccessEntry, ContactCard
from sla.privacy.ports import AccessQuery


class MongoContactDirectory:
    """Reads intake's `STAFF_CONTACTS` read model: one find by `_id`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def card(self, complaint_id: str) -> ContactCard | None:
        """The contact of one complaint, or None."""
        found = await read(self._db, STAFF_CONTACTS, {"_id": complaint_id})
        if not found:
            return None
        doc = found[0]
        if not (doc.phone_e164 or doc.name or doc.address):  # erased, or never given
            return None
        return ContactCard(phone=doc.phone_e164, name=doc.name, address=doc.address)


def _pack(entry: AccessEntry) -> Document:
    return {
        "_id": entry.access_id,
        "at": entry.at,
        "staff_id": entry.staff_id,
        "role": entry.role,
        "complaint_id": entry.complaint_id,
        "fields": list(entry.fields),
        "reason": entry.reason,
    }


def _unpack(doc: Document) -> AccessEntry:
    return AccessEntry(
        access_id=doc["_id"],
        at=doc["at"],
        staff_id=doc["staff_id"],
        role=doc["role"],
        complaint_id=doc["complaint_id"],
        fields=tuple(doc["fields"]),
        reason=doc["reason"],
    )


def access_filter(query: AccessQuery) -> Document:
    """The MongoDB filter of an access-log query (the keyset as an `$or`)."""
    found: Document = {}
    if query.complaint_id is not None:
        found["complaint_id"] = query.complaint_id
    if query.staff_id is not None:
        found["staff_id"] = query.staff_id
    if query.before is not None:
        at, access_id = query.before
        found["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": access_id}}]
    return found


class MongoAccessLog:
    """`contact_access`: one document per reveal, never updated or deleted by the service."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._log = db["contact_access"]  # docs/privacy.md: the access log

    async def ensure_indexes(self) -> None:
        """Indexes for the auditor's filters, newest first."""
        await ensure_index(self._log, [("complaint_id", 1), ("at", DESCENDING)])
        await ensure_index(self._log, [("staff_id", 1), ("at", DESCENDING)])
        await ensure_index(self._log, [("at", DESCENDING)])

    async def record(self, entry: AccessEntry) -> None:
        """Insert the entry (its id is new: a retried reveal writes a second entry)."""
        await self._log.insert_one(_pack(entry))

    async def entries(self, query: AccessQuery) -> Sequence[AccessEntry]:
        """Matching entries, newest first."""
        docs = await find_all(
            self._log,
            access_filter(query),
            sort=[("at", DESCENDING), ("_id", DESCENDING)],
            limit=query.limit,
        )
        return [_unpack(doc) for doc in docs]


class InMemoryContactDirectory:
    """Contacts held in a dict (tests put them in `cards`)."""

    def __init__(self) -> None:
        self.cards: dict[str, ContactCard] = {}

    async def card(self, complaint_id: str) -> ContactCard | None:
        """The contact of one complaint, or None."""
        return self.cards.get(complaint_id)


class InMemoryAccessLog:
    """The access log in a list; `fail` makes the next writes raise (a database outage)."""

    def __init__(self) -> None:
        self.kept: list[AccessEntry] = []
        self.fail = False

    async def ensure_indexes(self) -> None:
        """Nothing to index."""

    async def record(self, entry: AccessEntry) -> None:
        """Keep the entry."""
        if self.fail:
            raise ConnectionError("access log unavailable")
        self.kept.append(entry)

    async def entries(self, query: AccessQuery) -> Sequence[AccessEntry]:
        """Matching entries, newest first."""

        def matches(e: AccessEntry) -> bool:
            return (
                query.complaint_id in (None, e.complaint_id)
                and query.staff_id in (None, e.staff_id)
                and (query.before is None or (e.at, e.access_id) < query.before)
            )

        found = sorted(filter(matches, self.kept), key=lambda e: (e.at, e.access_id))
        return found[::-1][: query.limit]
