"""The declared collections held in memory: the erase port's fake for fast tests (issue 20).

Same answers as `PersonalDataStore` over MongoDB — the contract suite
(`tests/cli/test_privacy_store.py`) runs over both — with documents kept as dictionaries by
collection and `_id`, and each erasure applied as the same `$set` / `$unset` / `$inc` update.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from complaints_cli.privacy import Person, contact_query, person_of, versioned_erasure
from contracts.erasure import CONTACTS, PERSONAL_DATA, PRIVACY_REQUESTS
from contracts.erasure import PersonalData as Declared
from servicekit.mongo import Document


class InMemoryPersonalData:
    """Collections by name, each its documents by `_id` (copies in and out, as a server would)."""

    def __init__(self, collections: Mapping[str, Sequence[Document]] | None = None) -> None:
        self.collections: dict[str, dict[Any, Document]] = {}
        for name, docs in (collections or {}).items():
            self.collections[name] = {doc["_id"]: copy.deepcopy(dict(doc)) for doc in docs}

    def documents(self, collection: str) -> list[Document]:
        """Copies of every document of `collection`."""
        return [copy.deepcopy(doc) for doc in self.collections.get(collection, {}).values()]

    def _matching(self, declared: Declared, complaint_ids: Sequence[str]) -> list[Document]:
        wanted = set(complaint_ids)
        return [d for d in self.documents(declared.collection) if d.get(declared.by) in wanted]

    async def find(self, *, phone: str | None = None, customer: str | None = None) -> Person:
        """The person with this phone or customer id (every complaint of theirs)."""
        name, value = contact_query(phone=phone, customer=customer)
        return person_of([d for d in self.documents(CONTACTS.collection) if d.get(name) == value])

    async def of_complaints(self, complaint_ids: Sequence[str]) -> Person:
        """The people of these complaints, as one (for retention)."""
        return person_of(self._matching(CONTACTS, complaint_ids))

    async def export(self, person: Person) -> dict[str, list[Document]]:
        """Every declared document about the person's complaints, by collection."""
        held = {d.collection: self._matching(d, person.complaint_ids) for d in PERSONAL_DATA}
        return {name: docs for name, docs in held.items() if docs}

    async def erase(
        self, person: Person, *, now: datetime, only: Sequence[Declared] = PERSONAL_DATA
    ) -> dict[str, int]:
        """Erase the person from the declared collections; documents changed per collection."""
        changed: dict[str, int] = {}
        for declared in only:
            stored = self.collections.get(declared.collection, {})
            count = 0
            for doc in self._matching(declared, person.complaint_ids):
                if declared.delete:
                    del stored[doc["_id"]]
                    count += 1
                elif (found := versioned_erasure(declared, doc, person, now=now)) is not None:
                    stored[doc["_id"]] = _applied(doc, found[1])  # no one else writes meanwhile
                    count += 1
            changed[declared.collection] = count
        return changed

    async def audit(self, entry: Mapping[str, Any]) -> None:
        """Keep who asked for what (no identifiers) in `privacy_requests`."""
        requests = self.collections.setdefault(PRIVACY_REQUESTS.collection, {})
        requests[len(requests)] = {"_id": len(requests), **copy.deepcopy(dict(entry))}


def _applied(doc: Document, update: Mapping[str, Any]) -> Document:
    """`doc` after a `$set` / `$unset` / `$inc` update of top-level fields."""
    out = dict(doc)
    out.update(update.get("$set", {}))
    for name in update.get("$unset", {}):
        out.pop(name, None)
    for name, step in update.get("$inc", {}).items():
        out[name] = out.get(name, 0) + step
    return out
