"""The census tally in MongoDB: differences announced before a case write, added once after it.

`announce` stores `pending.<token>` on the tally document before the case write; `settle` adds
the stored part of the difference and removes the announcement in one conditional update, so a
difference is added at most once whoever settles it. `heal` settles what a dead process left:
announcements older than any live write, each for the changes its cases show stored (ADR 0029).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from pymongo.asynchronous.collection import AsyncCollection

from servicekit.mongo import Document, find_all
from sla.adapters.census_tally import (
    COUNTS,
    INSERTED_BY,
    PENDING,
    TALLY_ID,
    CensusRow,
    Part,
    announcement,
    landed,
    new_token,
    parts_of,
    rows,
    settlement,
)


class MongoTally:
    """The `census` collection's tally document, kept by the case writes."""

    def __init__(self, census: AsyncCollection[Document], cases: AsyncCollection[Document]):
        self._census = census
        self._cases = cases

    async def announce(self, parts: Sequence[Part], token: str | None = None) -> str | None:
        """Announce the parts that change the tally under `token` (default: a new one); the
        token, or None when nothing changes the tally (then nothing is written)."""
        counted = [p for p in parts if p[2]]
        if not counted:
            return None
        token = token or new_token()
        await self._census.update_one(
            {"_id": TALLY_ID},
            {"$set": {f"{PENDING}.{token}": announcement(counted, time.time())}},
            upsert=True,
        )
        return token

    async def settle(self, token: str | None, diff: Mapping[str, int]) -> bool:
        """Add `diff` and drop the announcement, if it is still there (False: settled before)."""
        if token is None:
            return False
        result = await self._census.update_one(
            {"_id": TALLY_ID, f"{PENDING}.{token}": {"$exists": True}}, settlement(token, diff)
        )
        return result.modified_count == 1

    async def stale(self, older_than: float) -> dict[str, list[Part]]:
        """Announcements older than `older_than` seconds: token → parts."""
        docs = await find_all(self._census, {"_id": TALLY_ID}, {PENDING: 1})
        pending = (docs[0].get(PENDING) or {}) if docs else {}
        cutoff = time.time() - older_than
        return {t: parts_of(a) for t, a in pending.items() if a.get("at", 0) <= cutoff}

    async def heal(self, older_than: float) -> int:
        """Settle stale announcements by what their cases show stored; how many were settled."""
        healed = 0
        for token, parts in (await self.stale(older_than)).items():
            ids = sorted({cid for cid, _, _ in parts})
            docs = await find_all(self._cases, {"_id": {"$in": ids}}, {"log.id": 1, INSERTED_BY: 1})
            marks = {
                d["_id"]: {e.get("id") for e in d.get("log", ())} | {d.get(INSERTED_BY)}
                for d in docs
            }
            healed += await self.settle(token, landed(parts, marks))
        return healed

    async def read(self) -> list[CensusRow]:
        """The tally: one read of one small document."""
        docs = await find_all(self._census, {"_id": TALLY_ID}, {COUNTS: 1})
        return rows(docs[0].get(COUNTS, {}) if docs else {})
