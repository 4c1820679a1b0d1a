"""`classification_tally`: decisions per minute of receipt, by category path and tier (ADR 0033).

One document per minute (`_id` `m<epoch minute>`, ASCII so the local build pushes the `$in`
down), holding `t.<path key>.<tier>` counts. The wide-area mass-incident rule reads these first
and the members of a path only when its count could reach a threshold
(`classifier.domain.path_tally`): a read of ~60 small documents per batch instead of every
decision of the batch's paths in the last half hour.

The counts may only ever be too high, never too low: every history entry is counted *before* it
is inserted (`MongoHistory.add`), so a crash between the two leaves a count without its entry,
and the redelivered batch counts it again; a correction counts the entry under its new path
before the entry moves. No personal data: paths, minutes, tiers and numbers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from classifier.domain.path_tally import TallyRow, minute_of
from contracts import CustomerTier
from servicekit.mongo import Document, find_all, insert_new, write_in_chunks

COLLECTION = "classification_tally"
BACKFILLED = "~backfilled"
"""The marker of a completed backfill from `classification_history`."""
_BACKFILL_BATCH = 500
_MINUTES_PER_READ = 500


def path_key(category: str) -> str:
    """A category path as a field name: short, ASCII, no `.` or `$` (a collision over-counts)."""
    return hashlib.blake2b(category.encode(), digest_size=8).hexdigest()


def _doc_id(minute: int) -> str:
    return f"m{minute}"


class MongoPathTally:
    """Counts per (minute, path, tier): added before the entries they count, read by minutes."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._tally = collection

    async def add(self, decisions: Iterable[tuple[str | None, datetime, str]]) -> None:
        """Count decisions given as (category, received_at, tier value); paths only (a top
        category alone has no wide-area issue). One insert of the minutes' documents that are
        missing and one `$inc` statement per minute."""
        counts: Counter[tuple[int, str, str]] = Counter(
            (minute_of(at), path_key(category), tier)
            for category, at, tier in decisions
            if category and "/" in category
        )
        if not counts:
            return
        by_minute: dict[int, dict[str, int]] = {}
        for (minute, key, tier), n in counts.items():
            by_minute.setdefault(minute, {})[f"t.{key}.{tier}"] = n
        await insert_new(self._tally, [{"_id": _doc_id(m)} for m in sorted(by_minute)])
        await write_in_chunks(
            self._tally,
            [UpdateOne({"_id": _doc_id(m)}, {"$inc": inc}) for m, inc in sorted(by_minute.items())],
        )

    async def read(self, categories: Sequence[str], minutes: Sequence[int]) -> list[TallyRow]:
        """The counts of these paths in these minutes (`_id $in` reads)."""
        keys = {path_key(c): c for c in set(categories)}
        if not keys or not minutes:
            return []
        rows: list[TallyRow] = []
        wanted = sorted(set(minutes))
        for start in range(0, len(wanted), _MINUTES_PER_READ):
            chunk = [_doc_id(m) for m in wanted[start : start + _MINUTES_PER_READ]]
            for doc in await find_all(self._tally, {"_id": {"$in": chunk}}):
                minute = int(doc["_id"][1:])
                for key, tiers in (doc.get("t") or {}).items():
                    if (category := keys.get(key)) is None:
                        continue
                    rows.extend(
                        TallyRow(category, minute, CustomerTier(tier), int(n))
                        for tier, n in tiers.items()
                    )
        return rows

    async def backfill(self, history: AsyncCollection[Document]) -> None:
        """Count the history once per store (a store written before the tally existed); a
        backfill cut short is counted again from the start (too high is safe), then marked."""
        if await self._tally.find_one({"_id": BACKFILLED}, {"_id": 1}) is not None:
            return
        batch: list[tuple[str | None, datetime, str]] = []
        fields = {"category": 1, "received_at": 1, "customer_tier": 1}
        async for doc in history.find({}, fields, batch_size=_BACKFILL_BATCH):
            if "received_at" not in doc:
                continue  # the history's own backfill marker
            tier = doc.get("customer_tier") or CustomerTier.STANDARD.value
            batch.append((doc.get("category"), doc["received_at"], tier))
            if len(batch) == _BACKFILL_BATCH:
                await self.add(batch)
                batch = []
        await self.add(batch)
        await insert_new(self._tally, [{"_id": BACKFILLED}])
