"""Issue 20: erasure, export and retention of one person's data (`complaints privacy`).

The pure parts run alone; the store runs on the real MongoDB-compatible server, over documents
shaped as the owners write them (a versioned case, a contact, a raw payload, a notification).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from complaints_cli.privacy import (
    PersonalDataStore,
    e164,
    identifiers_of,
    looks_like_phone,
    scrubbed,
)
from complaints_cli.privacy_cmd import RetentionError, retention_days
from contracts.erasure import CONTACTS, ERASED
from tests.stores import fresh_database, mongo_server

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PHONE, NAME, ADDRESS = "+8613912345678", "欧阳明月", "广东省深圳市南山区科技园路1号"
CID, OTHER = "CP20261124-0000000001", "CP20261124-0000000002"


def test_phones_and_subjects() -> None:
    assert e164("13912345678") == PHONE
    assert e164("8613912345678") == PHONE
    assert e164("+8613912345678") == PHONE
    assert e164("139 1234 5678") == PHONE
    assert looks_like_phone("139 1234 5678")
    assert not looks_like_phone("demo-run-7")


def test_scrubbing_replaces_every_identifier_in_nested_texts() -> None:
    idents = identifiers_of([{"phone_e164": PHONE, "name": NAME, "address": ADDRESS, "x": 1}])
    assert idents == {PHONE, "13912345678", NAME, ADDRESS}
    doc = {
        "history": [{"reason": f"已联系{NAME}，电话13912345678"}],
        "n": 3,
        "masked": "139****5678",
    }
    assert scrubbed(doc, idents) == {
        "history": [{"reason": f"已联系{ERASED}，电话{ERASED}"}],
        "n": 3,
        "masked": "139****5678",
    }
    assert identifiers_of([{"name": "李", "phone_e164": ERASED}]) == frozenset()


def test_the_pack_sets_retention_and_a_bad_setting_is_refused(tmp_path: Path) -> None:
    assert retention_days(ROOT / "policies", "telecom") == {
        "contacts_after_close_days": 90.0,
        "raw_payloads_after_close_days": 30.0,
    }
    assert retention_days(tmp_path, "none")["contacts_after_close_days"] == 90.0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "privacy.yaml").write_text("retention: {contacts_after_close_days: -1}")
    with pytest.raises(RetentionError):
        retention_days(tmp_path, "bad")


FACTS = {"channel": "hotline", "received_at": NOW - timedelta(days=200), "severity": "P4"}


def seed() -> dict[str, list[dict[str, Any]]]:
    text = f"我是{NAME}，住在{ADDRESS}，电话139****5678"
    return {
        "contacts": [
            {
                "_id": CID,
                "phone_e164": PHONE,
                "name": NAME,
                "address": ADDRESS,
                "complainant_key": "k",
            },
            {"_id": OTHER, "phone_e164": "+8613700000000", "name": "王五", "complainant_key": "j"},
        ],
        "raw_payloads": [{"_id": CID, "original_json": json.dumps({"p": PHONE})}, {"_id": OTHER}],
        "complaints": [{"_id": CID, "normalized_event": {"data": {"text": text}}}],
        "cases": [
            {
                "_id": CID,
                "version": 7,
                "state": "closed",
                **FACTS,
                "closed_at": NOW - timedelta(days=100),
                "history": [{"action": "contacted", "note": f"已联系{NAME}"}],
            },
            {
                "_id": OTHER,
                "version": 1,
                "state": "closed",
                **FACTS,
                "closed_at": NOW - timedelta(days=40),
            },
        ],
        "notifications": [{"_id": "n1", "complaint_id": CID, "address": PHONE, "status": "sent"}],
    }


async def seeded(db: Any) -> None:
    for name, docs in seed().items():
        await db[name].insert_many(docs)


def dumped(docs: list[dict[str, Any]]) -> str:
    return json.dumps(docs, ensure_ascii=False, default=str)


@pytest.mark.stack
async def test_export_then_erase_leaves_no_identifier_and_keeps_the_case() -> None:
    async with fresh_database(mongo_server(), "privacy_test") as db:
        await seeded(db)
        store = PersonalDataStore(db)
        person = await store.find(phone="13912345678")
        assert person.complaint_ids == (CID,)
        held = await store.export(person)
        assert set(held) == {"contacts", "raw_payloads", "complaints", "cases", "notifications"}
        assert NAME in dumped(held["cases"])
        changed = await store.erase(person, now=NOW)
        assert changed["contacts"] == changed["cases"] == changed["raw_payloads"] == 1
        for name in await db.list_collection_names():
            text = dumped(await db[name].find({}).to_list(None))
            for ident in (NAME, ADDRESS, "13912345678"):
                assert ident not in text, (name, ident)
        [case] = await db["cases"].find({"_id": CID}).to_list(None)
        assert (case["state"], case["version"]) == ("closed", 8)  # the owner's CAS sees it
        assert case["history"][0]["note"] == f"已联系{ERASED}"
        [other] = await db["contacts"].find({"_id": OTHER}).to_list(None)
        assert other["name"] == "王五"  # nobody else's data changes
        assert await db["cases"].count_documents({}) == 2
        again = await store.find(phone="13912345678")
        assert not again.found
        assert (await store.erase(person, now=NOW))["cases"] == 0


@pytest.mark.stack
async def test_retention_erases_contacts_and_payloads_of_long_closed_cases() -> None:
    from complaints_cli.privacy_cmd import Target, retention_command

    async with fresh_database(mongo_server(), "privacy_test") as db:
        await seeded(db)
        target = Target(mongo_server(), db.name, "test")
        days = {"contacts_after_close_days": 90.0, "raw_payloads_after_close_days": 30.0}
        assert await retention_command(target, days, NOW) == 0
        contacts = {d["_id"]: d for d in await db["contacts"].find({}).to_list(None)}
        assert "phone_e164" not in contacts[CID]  # closed 100 days ago
        assert contacts[OTHER]["phone_e164"] == "+8613700000000"  # closed 40 days ago
        assert await db["raw_payloads"].count_documents({}) == 0  # both closed > 30 days ago
        [audit] = await db["privacy_requests"].find({}).to_list(None)
        assert audit["changed"] == {"contacts": 1, "raw_payloads": 2}
        assert CONTACTS.collection == "contacts"
