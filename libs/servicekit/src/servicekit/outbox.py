"""Store-then-publish bookkeeping: the first decision wins and is published once.

A stage stores its outgoing event in its own document for the complaint (keyed by complaint id,
so every write is a primary-key upsert), publishes every stored event not yet confirmed, then
marks them published. After a crash, the redelivered input finds the
stored event and publishes *that* again, byte for byte, so downstream sees one decision with one
event id however often the input is delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from contracts import Event
from servicekit.mongo import Document, find_all

E = TypeVar("E", bound=Event)


class MissingDocumentsError(RuntimeError):
    """A stage's event could not be stored because its document is not there (yet)."""


class Outbox(Generic[E]):
    """Outgoing events of one stage, kept in `<stage>_event` / `<stage>_published` fields."""

    def __init__(
        self, collection: AsyncCollection[Document], *, stage: str, event_type: type[E]
    ) -> None:
        self.collection = collection
        self._event_field = f"{stage}_event"
        self._flag = f"{stage}_published"
        self._event_type = event_type

    def insert(self, doc_id: str, event: E, fields: dict[str, Any] | None = None) -> UpdateOne:
        """Create the document with `event` (and `fields`) unless one with this id exists."""
        return UpdateOne(
            {"_id": doc_id},
            {
                "$setOnInsert": {
                    **(fields or {}),
                    self._event_field: event.model_dump(mode="json"),
                    self._flag: False,
                }
            },
            upsert=True,
        )

    async def pending(self, doc_ids: Sequence[str]) -> list[E]:
        """Stored events of these documents not yet confirmed on Kafka.

        Raises `MissingDocumentsError` when a document has no event at all (its earlier stage's
        write is not visible yet): retrying is right, skipping would lose the complaint.
        """
        if not doc_ids:
            return []
        docs = await find_all(
            self.collection, {"_id": {"$in": list(doc_ids)}}, {self._event_field: 1, self._flag: 1}
        )
        have = {doc["_id"] for doc in docs if self._event_field in doc}
        if missing := set(doc_ids) - have:
            raise MissingDocumentsError(f"{len(missing)} documents lack {self._event_field}")
        return [
            self._event_type.model_validate(doc[self._event_field])
            for doc in docs
            if doc.get(self._flag) is False
        ]

    async def mark_published(self, doc_ids: Sequence[str]) -> None:
        """Remember that these documents' events reached Kafka."""
        if doc_ids:
            await self.collection.update_many(
                {"_id": {"$in": list(doc_ids)}}, {"$set": {self._flag: True}}
            )


class MemoryOutbox(Generic[E]):
    """The same bookkeeping in a dict, for handler tests."""

    def __init__(self) -> None:
        self.events: dict[str, E] = {}
        self.published: set[str] = set()

    def put(self, doc_id: str, event: E) -> bool:
        """Keep `event` unless the document has one; True if it was kept."""
        if doc_id in self.events:
            return False
        self.events[doc_id] = event
        return True

    async def pending(self, doc_ids: Sequence[str]) -> list[E]:
        """Kept events not yet marked published."""
        return [
            self.events[i]
            for i in dict.fromkeys(doc_ids)
            if i in self.events and i not in self.published
        ]

    async def mark_published(self, doc_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        self.published.update(doc_ids)
