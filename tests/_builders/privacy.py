"""A person's data as the owners store it (a versioned case, a contact, a raw payload, a
notification), for the erase port's contract suite and the retention test."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PHONE, NAME, ADDRESS = "+8613912345678", "欧阳明月", "广东省深圳市南山区科技园路1号"
CID, OTHER = "CP20261124-0000000001", "CP20261124-0000000002"
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
    """Insert `seed()` into a MongoDB database."""
    for name, docs in seed().items():
        await db[name].insert_many(docs)


def dumped(docs: list[dict[str, Any]]) -> str:
    """Documents as one searchable text."""
    return json.dumps(docs, ensure_ascii=False, default=str)
