"""Store-then-publish bookkeeping: the first decision wins and is published once.

A stage stores its outgoing event in its own document for the complaint (keyed by complaint id,
inserted only if absent), publishes every stored event not yet confirmed, then marks them
published. After a crash, the redelivered input finds the stored event and publishes *that*
again, byte for byte, so downstream sees one decision with one event id however often the input
is delivered.

Marks live in a companion collection `<collection>_published` of bare `{_id}` documents: marking
is then a batch insert of tiny documents rather than a rewrite of each (large) stage document,
and an event this process has just inserted is published from memory, not read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from contracts import Event
from servicekit.mongo import Document, find_all, insert_new

E = TypeVar("E", bound=Event)
FRESH_LIMIT = 50_000


class MissingDocumentsError(RuntimeError):
    """A stage's event could not be stored because its document is not there (yet)."""


class Outbox(Generic[E]):
    """Outgoing events of one stage, kept in a `<stage>_event` field of the stage's documents."""

    def __init__(
        self, collection: AsyncCollection[Document], *, stage: str, event_type: type[E]
    ) -> None:
        self.collection = collection
        self._marks = collection.database[f"{collection.name}_published"]
        self._event_field = f"{stage}_event"
        self._event_type = event_type
        self._fresh: dict[str, E] = {}  # inserted by this process, not yet marked

    def document(self, doc_id: str, event: E, fields: dict[str, Any] | None = None) -> Document:
        """The stage document holding `event` (and `fields`)."""
        return {"_id": doc_id, **(fields or {}), self._event_field: event.model_dump(mode="json")}

    async def insert_all(self, entries: Sequence[tuple[str, E, dict[str, Any] | None]]) -> None:
        """Insert-if-absent every (id, event, fields); the first stored event of an id wins."""
        taken = await insert_new(
            self.collection, [self.document(i, event, fields) for i, event, fields in entries]
        )
        if len(self._fresh) > FRESH_LIMIT:  # never marked here (e.g. another replica did)
            self._fresh.clear()
        self._fresh |= {i: event for i, event, _ in entries if i not in taken}

    async def pending(self, doc_ids: Sequence[str]) -> list[E]:
        """Stored events of these documents not yet confirmed on Kafka.

        Raises `MissingDocumentsError` when a document has no event at all (its earlier stage's
        write is not visible yet): retrying is right, skipping would lose the complaint.
        """
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return []
        marked = {d["_id"] for d in await find_all(self._marks, {"_id": {"$in": wanted}})}
        unmarked = [i for i in wanted if i not in marked]
        stored = [i for i in unmarked if i not in self._fresh]
        events = {i: self._fresh[i] for i in unmarked if i in self._fresh}
        if stored:
            docs = await find_all(self.collection, {"_id": {"$in": stored}}, {self._event_field: 1})
            found = {doc["_id"]: doc for doc in docs if self._event_field in doc}
            if missing := set(stored) - found.keys():
                raise MissingDocumentsError(f"{len(missing)} documents lack {self._event_field}")
            events |= {
                i: self._event_type.model_validate(doc[self._event_field])
                for i, doc in found.items()
            }
        return [events[i] for i in unmarked]

    async def mark_published(self, doc_ids: Sequence[str]) -> None:
        """Remember that these documents' events reached Kafka."""
        wanted = list(dict.fromkeys(doc_ids))
        if wanted:
            await insert_new(self._marks, [{"_id": i} for i in wanted])
        for i in wanted:
            self._fresh.pop(i, None)


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
