"""Erasure and export of one person's data, and the retention rounds (issue 20, ADR 0017).

Acts only on the owners' declarations (`contracts.erasure`): the person is found in intake's
contacts by phone or customer id; their complaint ids lead to every other declared collection.
Erasure drops the declared identifier fields, deletes what exists only to keep what the person
sent, and replaces the person's identifiers in any other text with `ERASED`, so what is kept
(states, clocks, verdicts, counts) still adds up to the same statistics.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from contracts.erasure import CONTACT_FIELDS, CONTACTS, ERASED, PERSONAL_DATA, PRIVACY_REQUESTS
from contracts.erasure import PersonalData as Declared
from servicekit.mongo import Document, find_all

MIN_IDENTIFIER = 2
"""Shorter identifiers (a one-character name) are not searched for in texts."""
CAS_TRIES = 5
"""Attempts at a versioned document (a case) the owning service changes meanwhile."""
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,}$")


def e164(phone: str) -> str:
    """A phone as intake stores it: mainland numbers get +86."""
    digits = re.sub(r"[ -]", "", phone)
    if digits.startswith("+"):
        return digits
    return "+86" + digits.removeprefix("86") if len(digits) in (11, 13) else "+" + digits


def looks_like_phone(subject: str) -> bool:
    """Whether a subject given on the command line is a phone number (else a customer id)."""
    return bool(_PHONE.match(subject))


@dataclass(frozen=True)
class Person:
    """One person as found: their complaints and every identifier they gave."""

    complaint_ids: tuple[str, ...]
    identifiers: frozenset[str] = field(repr=False)

    @property
    def found(self) -> bool:
        """Whether any complaint of theirs is held."""
        return bool(self.complaint_ids)


def identifiers_of(contacts: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Every identifier of these contact documents, phones also without +86."""
    found: set[str] = set()
    for doc in contacts:
        for name in CONTACT_FIELDS:
            value = doc.get(name)
            if isinstance(value, str) and len(value) >= MIN_IDENTIFIER and value != ERASED:
                found.add(value)
                if name == "phone_e164" and value.startswith("+86"):
                    found.add(value.removeprefix("+86"))
    return frozenset(found)


def scrubbed(value: Any, identifiers: frozenset[str]) -> Any:
    """`value` with every identifier in its texts replaced by `ERASED` (nested documents too)."""
    if isinstance(value, str):
        for ident in sorted(identifiers, key=len, reverse=True):
            value = value.replace(ident, ERASED)
        return value
    if isinstance(value, dict):
        return {k: scrubbed(v, identifiers) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, identifiers) for v in value]
    return value


def digest(subject: str) -> str:
    """What the audit keeps of the searched identifier: a digest, never the value."""
    return hashlib.sha256(subject.encode()).hexdigest()[:16]


class PersonalDataPort(Protocol):
    """Where the declared collections live: the MongoDB store, or the in-memory one for tests
    (`complaints_cli.privacy_memory`); `tests/cli/test_privacy_store.py` runs over both."""

    async def find(self, *, phone: str | None = None, customer: str | None = None) -> Person:
        """The person with this phone or customer id (every complaint of theirs)."""
        ...

    async def of_complaints(self, complaint_ids: Sequence[str]) -> Person:
        """The people of these complaints, as one (for retention)."""
        ...

    async def export(self, person: Person) -> dict[str, list[Document]]:
        """Every declared document about the person's complaints, by collection."""
        ...

    async def erase(
        self, person: Person, *, now: datetime, only: Sequence[Declared] = PERSONAL_DATA
    ) -> dict[str, int]:
        """Erase the person from the declared collections; documents changed per collection."""
        ...

    async def audit(self, entry: Mapping[str, Any]) -> None:
        """Keep who asked for what (no identifiers) in `privacy_requests`."""
        ...


def person_of(contacts: Sequence[Mapping[str, Any]]) -> Person:
    """The person these contact documents describe."""
    return Person(tuple(sorted(doc["_id"] for doc in contacts)), identifiers_of(contacts))


def contact_query(*, phone: str | None, customer: str | None) -> tuple[str, str | None]:
    """The contact field and value a person is looked up by."""
    return ("phone_e164", e164(phone)) if phone else ("customer_id", customer)


class PersonalDataStore:
    """The declared collections of one pipeline database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    def _of(self, declared: Declared) -> Any:
        return self._db[declared.collection]

    async def find(self, *, phone: str | None = None, customer: str | None = None) -> Person:
        """The person with this phone or customer id (every complaint of theirs)."""
        name, value = contact_query(phone=phone, customer=customer)
        return person_of(await find_all(self._of(CONTACTS), {name: value}))

    async def of_complaints(self, complaint_ids: Sequence[str]) -> Person:
        """The people of these complaints, as one (for retention)."""
        docs = await find_all(self._of(CONTACTS), {"_id": {"$in": list(complaint_ids)}})
        return person_of(docs)

    async def export(self, person: Person) -> dict[str, list[Document]]:
        """Every declared document about the person's complaints, by collection."""
        held: dict[str, list[Document]] = {}
        for declared in PERSONAL_DATA:
            docs = await find_all(
                self._of(declared), {declared.by: {"$in": list(person.complaint_ids)}}
            )
            if docs:
                held[declared.collection] = docs
        return held

    async def erase(
        self, person: Person, *, now: datetime, only: Sequence[Declared] = PERSONAL_DATA
    ) -> dict[str, int]:
        """Erase the person from the declared collections; documents changed per collection."""
        changed: dict[str, int] = {}
        for declared in only:
            where = {declared.by: {"$in": list(person.complaint_ids)}}
            if declared.delete:
                changed[declared.collection] = (
                    await self._of(declared).delete_many(where)
                ).deleted_count
                continue
            count = 0
            for doc in await find_all(self._of(declared), where):
                count += await self._erase_one(declared, doc, person, now=now)
            changed[declared.collection] = count
        return changed

    async def _erase_one(
        self, declared: Declared, doc: Document, person: Person, *, now: datetime
    ) -> int:
        """Rewrite one document (compare-and-set on its `version` if it has one); 1 if changed."""
        collection = self._of(declared)
        for _ in range(CAS_TRIES):
            found = versioned_erasure(declared, doc, person, now=now)
            if found is None:
                return 0
            where, update = found
            if (await collection.update_one(where, update)).matched_count:
                return 1
            fresh = await find_all(collection, {"_id": doc["_id"]})
            if not fresh:
                return 0
            doc = fresh[0]
        raise RuntimeError(f"{declared.collection} {doc['_id']!r} kept changing; run again")

    async def audit(self, entry: Mapping[str, Any]) -> None:
        """Keep who asked for what (no identifiers) in `privacy_requests`."""
        await self._of(PRIVACY_REQUESTS).insert_one(dict(entry))


def versioned_erasure(
    declared: Declared, doc: Document, person: Person, *, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The filter and update that erase the person from `doc` — a compare-and-set on its
    `version` with the version bumped, if it has one — or None if nothing is left to erase."""
    update = erasure(declared, doc, person, now=now)
    if update is None:
        return None
    where: dict[str, Any] = {"_id": doc["_id"]}
    if isinstance(doc.get("version"), int):  # the owner's compare-and-set token
        where["version"] = doc["version"]
        update["$inc"] = {"version": 1}
    return where, update


def erasure(
    declared: Declared, doc: Document, person: Person, *, now: datetime
) -> dict[str, Any] | None:
    """The update that erases the person from `doc`, or None if nothing is left to erase."""
    unset = {name: "" for name in declared.drop if doc.get(name) is not None}
    changes = {
        key: new
        for key, value in doc.items()
        if key not in {"_id", "version", *declared.drop}
        and (new := scrubbed(value, person.identifiers)) != value
    }
    if not unset and not changes:
        return None
    if declared is CONTACTS:
        changes["erased_at"] = now
    update: dict[str, Any] = {}
    if changes:
        update["$set"] = changes
    if unset:
        update["$unset"] = unset
    return update
