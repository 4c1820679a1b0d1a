"""Counting a run's complaints at every stage, from MongoDB and the notification receiver."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.receiver import Receiver
from complaints_cli.sla_clocks import clock_documents
from contracts.read_models import CLASSIFICATIONS, COMPLAINT_RECEIPTS
from servicekit.read_models import documents


@dataclass
class StageCounts:
    """Where a run's complaints are; `expected_*` follow from the classifier's stored decisions."""

    sent: int
    normalized: int = 0
    classified: int = 0
    expected_deadlines: int = 0
    with_deadlines: int = 0
    expected_acks: int = 0
    acknowledged: int = 0
    duplicated: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    severities: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    clocks: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        """Complaints missing at a stage they should have reached."""
        return (
            (self.sent - self.normalized)
            + (self.normalized - self.classified)
            + (self.expected_deadlines - self.with_deadlines)
            + (self.expected_acks - self.acknowledged)
        )

    @property
    def complete(self) -> bool:
        """Every complaint reached every stage it should."""
        return self.lost == 0

    def line(self, prefix: str = "e2e") -> str:
        """The one-line summary CI and people read."""
        return (
            f"{prefix}: {self.sent} sent, {self.normalized} normalized, "
            f"{self.classified} classified, {self.with_deadlines} with deadlines, "
            f"{self.acknowledged} acknowledged, {self.lost} lost, {self.duplicated} duplicated"
        )


async def count(
    db: AsyncDatabase[dict[str, Any]], receiver: Receiver, *, run_id: str, sent: int
) -> StageCounts:
    """Read the run's state: complaints from MongoDB, acknowledgements from the receiver."""
    counts = StageCounts(sent=sent)
    query = {"external_id": {"$regex": f"^{re.escape(run_id)}-"}}
    ids = [d["_id"] for d in await documents(db, COMPLAINT_RECEIPTS, query)]
    counts.normalized = len(ids)
    decisions = await documents(db, CLASSIFICATIONS, {"_id": {"$in": ids}})
    clocked: list[str] = []
    for doc in decisions:
        counts.classified += 1
        counts.kinds[doc.get("kind") or "?"] += 1
        if doc.get("duplicate_of"):
            continue
        counts.expected_acks += 1
        if doc.get("kind") == "complaint":
            clocked.append(doc["_id"])
            counts.categories[doc.get("category_top") or "?"] += 1
            counts.severities[doc.get("severity") or "?"] += 1
    counts.expected_deadlines = len(clocked)
    with_deadlines: set[str] = set()
    deadlines = await clock_documents(db, {"_id": {"$in": ids}})
    for d in deadlines:
        with_deadlines.add(d["complaint_id"])
        counts.clocks.setdefault(d["clock"], []).append(d)
    counts.with_deadlines = len(with_deadlines & set(clocked))
    acks = receiver.customer_acks()
    run_ids = set(ids)
    counts.acknowledged = sum(1 for cid in acks if cid in run_ids)
    counts.duplicated = sum(1 for cid, n in acks.items() if cid in run_ids and n > 1)
    counts.duplicated += receiver.duplicate_keys()
    return counts
