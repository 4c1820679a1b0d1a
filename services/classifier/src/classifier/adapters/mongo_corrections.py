"""Staff corrections in MongoDB: `corrections`, and `regraded` on `classifications`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from classifier.adapters.mongo_history import MongoHistory
from classifier.adapters.mongo_path_tally import MongoPathTally
from classifier.domain.regrade import Correction
from contracts import FlagName, Kind, Severity
from servicekit.mongo import Document, find_all, write_in_chunks


def _document(correction: Correction) -> dict[str, Any]:
    return {
        "complaint_id": correction.complaint_id,
        "actor": correction.actor,
        "role": correction.role,
        "occurred_at": correction.occurred_at,
        "reason": correction.reason,
        "kind": correction.kind.value,
        "category": correction.category,
        "severity": correction.severity.value if correction.severity else None,
        "flags": [flag.value for flag in correction.flags],
    }


def _correction(doc: dict[str, Any]) -> Correction:
    return Correction(
        complaint_id=doc["complaint_id"],
        action_id=doc["_id"],
        actor=doc["actor"],
        role=doc["role"],
        occurred_at=doc["occurred_at"],
        reason=doc["reason"],
        kind=Kind(doc["kind"]),
        category=doc.get("category"),
        severity=Severity(doc["severity"]) if doc.get("severity") else None,
        flags=tuple(FlagName(flag) for flag in doc.get("flags", [])),
    )


class MongoCorrectionStore:
    """`corrections`: one document per `regraded` action (`_id` = action id). The corrected
    decision is also set on the complaint's `classifications` document (kind, category,
    severity, flags, and `regraded` with who, when and why), and on its history entry (kind,
    category), so history queries read it; the stored event stays as published."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._corrections = db["corrections"]
        self._classifications = db["classifications"]
        self._history = MongoHistory(
            db["classification_history"], MongoPathTally(db["classification_tally"])
        )

    async def apply(self, corrections: Sequence[Correction]) -> list[str]:
        """Insert-if-absent per action id, then a guarded `$set` per complaint (`_id` writes)."""
        if not corrections:
            return []
        ids = sorted({c.complaint_id for c in corrections})
        found = await find_all(self._classifications, {"_id": {"$in": ids}}, {"_id": 1})
        known = {doc["_id"] for doc in found}
        kept = [c for c in corrections if c.complaint_id in known]
        await write_in_chunks(
            self._corrections,
            [
                UpdateOne({"_id": c.action_id}, {"$setOnInsert": _document(c)}, upsert=True)
                for c in kept
            ],
        )
        latest: dict[str, Correction] = {}
        for c in kept:
            if c.complaint_id not in latest or latest[c.complaint_id].occurred_at <= c.occurred_at:
                latest[c.complaint_id] = c
        # An older correction delivered late must not undo a newer one.
        await write_in_chunks(
            self._classifications,
            [
                UpdateOne(
                    {
                        "_id": c.complaint_id,
                        "$or": [
                            {"regraded": None},
                            {"regraded.occurred_at": {"$lte": c.occurred_at}},
                        ],
                    },
                    {"$set": _decision_fields(c)},
                )
                for c in latest.values()
            ],
        )
        await self._history.regrade(
            {c.complaint_id: (c.kind.value, c.category, c.occurred_at) for c in latest.values()}
        )
        return [c.complaint_id for c in corrections if c.complaint_id not in known]

    async def corrections(self) -> list[Correction]:
        """Every correction, oldest first."""
        docs = await find_all(self._corrections, {}, None)
        return sorted((_correction(d) for d in docs), key=lambda c: (c.occurred_at, c.action_id))


def _decision_fields(correction: Correction) -> dict[str, Any]:
    """The corrected decision as the `classifications` document's fields."""
    category = correction.category
    return {
        "kind": correction.kind.value,
        "category": category,
        "category_top": category.split("/", 1)[0] if category else None,
        "severity": correction.severity.value if correction.severity else None,
        "flags": [flag.value for flag in correction.flags],
        "regraded": {
            "action_id": correction.action_id,
            "actor": correction.actor,
            "role": correction.role,
            "occurred_at": correction.occurred_at,
            "reason": correction.reason,
        },
    }
