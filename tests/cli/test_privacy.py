"""Issue 20: erasure, export and retention of one person's data (`complaints privacy`).

The pure parts run alone; retention runs on the real MongoDB-compatible server. The erase port
itself (export, erase) has its contract suite in test_privacy_store.py, over the fake and the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints_cli.privacy import (
    e164,
    identifiers_of,
    looks_like_phone,
    scrubbed,
)
from complaints_cli.privacy_cmd import RetentionError, retention_days
from contracts.erasure import CONTACTS, ERASED
from tests._builders.privacy import ADDRESS, CID, NAME, NOW, OTHER, PHONE, seeded
from tests.stores import fresh_database, mongo_server

ROOT = Path(__file__).resolve().parents[2]


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
