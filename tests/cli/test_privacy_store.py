"""The erase port's contract (issue 20): the same export and erasure over the in-memory fake and
the MongoDB store on the real MongoDB-compatible server, over documents shaped as the owners
write them (a versioned case, a contact, a raw payload, a notification)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.privacy import PersonalDataPort, PersonalDataStore
from complaints_cli.privacy_memory import InMemoryPersonalData
from contracts.erasure import CONTACTS, ERASED, PERSONAL_DATA
from servicekit.mongo import Document
from tests._builders.privacy import ADDRESS, CID, NAME, NOW, OTHER, dumped, seed, seeded
from tests.stores import BACKENDS, fresh_database, mongo_server

GONE = (NAME, ADDRESS, "13912345678")
"""The person's phone, name and address: none may be left anywhere after erasure."""


@dataclass
class Held:
    """A port over the seeded documents, and a way to read back every collection it holds."""

    store: PersonalDataPort
    everything: dict[str, list[Document]]

    async def refresh(self) -> None:
        """Read every collection again (after the port changed them)."""


@dataclass
class MemoryHeld(Held):
    fake: InMemoryPersonalData | None = None

    async def refresh(self) -> None:
        assert self.fake is not None
        self.everything = {name: self.fake.documents(name) for name in self.fake.collections}


@dataclass
class MongoHeld(Held):
    db: AsyncDatabase[Document] | None = None

    async def refresh(self) -> None:
        assert self.db is not None
        names = await self.db.list_collection_names()
        self.everything = {n: await self.db[n].find({}).to_list(None) for n in names}


@contextlib.asynccontextmanager
async def held(kind: str) -> AsyncIterator[Held]:
    """The seeded documents behind the fake or the real store."""
    if kind == "memory":
        fake = InMemoryPersonalData(seed())
        out: Held = MemoryHeld(fake, {}, fake)
        await out.refresh()
        yield out
        return
    async with fresh_database(mongo_server(), "privacy_store") as db:
        await seeded(db)
        out = MongoHeld(PersonalDataStore(db), {}, db)
        await out.refresh()
        yield out


@pytest.fixture(params=BACKENDS)
async def port(request: pytest.FixtureRequest) -> AsyncIterator[Held]:
    async with held(request.param) as it:
        yield it


async def test_a_person_is_found_by_phone_or_customer_id(port: Held) -> None:
    person = await port.store.find(phone="13912345678")
    assert person.complaint_ids == (CID,)
    assert {NAME, ADDRESS, "13912345678", "+8613912345678"} <= person.identifiers
    assert not (await port.store.find(customer="nobody")).found
    both = await port.store.of_complaints([CID, OTHER])
    assert both.complaint_ids == (CID, OTHER)


async def test_export_holds_every_declared_document_of_the_person(port: Held) -> None:
    held_docs = await port.store.export(await port.store.find(phone="13912345678"))
    assert set(held_docs) == {"contacts", "raw_payloads", "complaints", "cases", "notifications"}
    assert NAME in dumped(held_docs["cases"])
    assert all(d.get("_id") != OTHER for docs in held_docs.values() for d in docs)


async def test_erase_leaves_no_identifier_and_keeps_the_case(port: Held) -> None:
    person = await port.store.find(phone="13912345678")
    changed = await port.store.erase(person, now=NOW)
    assert set(changed) == {d.collection for d in PERSONAL_DATA}
    assert changed["contacts"] == changed["cases"] == changed["raw_payloads"] == 1
    assert changed["notifications"] == changed["complaints"] == 1
    await port.refresh()
    for name, docs in port.everything.items():
        for ident in GONE:
            assert ident not in dumped(docs), (name, ident)
    cases = {d["_id"]: d for d in port.everything["cases"]}
    assert (cases[CID]["state"], cases[CID]["version"]) == ("closed", 8)  # the owner's CAS sees it
    assert cases[CID]["history"][0]["note"] == f"已联系{ERASED}"
    assert len(cases) == 2  # the statistics keep the case
    contacts = {d["_id"]: d for d in port.everything["contacts"]}
    assert contacts[CID]["erased_at"] is not None
    assert "phone_e164" not in contacts[CID]
    assert contacts[OTHER]["name"] == "王五"  # nobody else's data changes
    assert [d["_id"] for d in port.everything["raw_payloads"]] == [OTHER]
    assert "address" not in port.everything["notifications"][0]


async def test_a_second_erase_finds_nobody_and_changes_nothing(port: Held) -> None:
    person = await port.store.find(phone="13912345678")
    await port.store.erase(person, now=NOW)
    assert not (await port.store.find(phone="13912345678")).found
    again = await port.store.erase(person, now=NOW)
    assert set(again.values()) == {0}


async def test_erase_can_be_limited_to_some_collections(port: Held) -> None:
    person = await port.store.of_complaints([CID])
    assert await port.store.erase(person, now=NOW, only=(CONTACTS,)) == {"contacts": 1}
    await port.refresh()
    assert NAME in dumped(port.everything["cases"])  # retention erases contacts only


async def test_audit_entries_are_kept(port: Held) -> None:
    await port.store.audit({"action": "erase", "operator": "dpo", "at": NOW})
    await port.refresh()
    [entry] = port.everything["privacy_requests"]
    assert (entry["action"], entry["operator"]) == ("erase", "dpo")
