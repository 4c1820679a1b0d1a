"""The scheduler replicas' heartbeats: `scheduler_state/replica:<owner>` (ADR 0025)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document, find_all

PREFIX = "replica:"


class MongoLiveness:
    """One `{_id: "replica:<owner>", beat}` document per replica, beside the due index's
    watermark; found by `_id` (the one filter FerretDB 1.x pushes down)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._state = db["scheduler_state"]

    async def beat(self, owner: str, *, now: datetime) -> None:
        """One upsert by `_id`."""
        await self._state.update_one({"_id": PREFIX + owner}, {"$set": {"beat": now}}, upsert=True)

    async def beats(self, owners: Sequence[str]) -> dict[str, datetime]:
        """One `_id` read (`$in` for several)."""
        keys = sorted({PREFIX + o for o in owners})
        if not keys:
            return {}
        query = {"_id": keys[0]} if len(keys) == 1 else {"_id": {"$in": keys}}
        docs = await find_all(self._state, query)
        return {doc["_id"].removeprefix(PREFIX): doc["beat"] for doc in docs if "beat" in doc}

    async def leave(self, owner: str) -> None:
        """Delete the replica's document."""
        await self._state.delete_one({"_id": PREFIX + owner})


class InMemoryLiveness:
    """Beats in a dict (shared by the replicas of a test)."""

    def __init__(self) -> None:
        self.last: dict[str, datetime] = {}

    async def beat(self, owner: str, *, now: datetime) -> None:
        """Keep the beat."""
        self.last[owner] = now

    async def beats(self, owners: Sequence[str]) -> dict[str, datetime]:
        """The kept beats of these owners."""
        return {o: self.last[o] for o in owners if o in self.last}

    async def leave(self, owner: str) -> None:
        """Forget the owner."""
        self.last.pop(owner, None)
