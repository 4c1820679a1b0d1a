"""Store-then-publish: the first decision wins, is stored, and is what gets published.

A stage inserts its outgoing event into its own document for the complaint (keyed by complaint
id, inserted only if absent), publishes, and only then lets the consumer commit the input's
offset (`servicekit.delivery`). A redelivered input finds its document taken and publishes the
*stored* event again, byte for byte, with its deterministic id; consumers are idempotent on that
id (or on the complaint id), so downstream sees one decision however often the input comes.
No "published" mark is written: the committed offset is that mark (ADR 0003, addendum).

`Decisions` / `MemoryDecisions` are that bookkeeping. `Outbox` / `MemoryOutbox` are the older
form with a `<collection>_published` mark collection, kept only while the SLA service uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from contracts import Event
from servicekit.mongo import Document, find_all, insert_new

E = TypeVar("E", bound=Event)
FRESH_LIMIT = 50_000
Entry = tuple[str, E, dict[str, Any] | None]


@dataclass(frozen=True)
class Stored(Generic[E]):
    """What storing a batch came to: the events to publish (one per id) and the ids new now."""

    events: list[E]
    new: frozenset[str]


class MissingDocumentsError(RuntimeError):
    """A stage's event could not be found although its document's id is taken."""


class Decisions(Generic[E]):
    """A stage's stored events, one per document, in a `<stage>_event` field (or as `pack`
    writes it). `store` returns what to publish: the new events, and the stored ones of ids
    that were already taken (a redelivery, or another replica was first)."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        stage: str,
        event_type: type[E],
        pack: Callable[[E], Document] | None = None,
        unpack: Callable[[Document], E] | None = None,
    ) -> None:
        self.collection = collection
        self.field = f"{stage}_event"
        self._event_type = event_type
        self._pack = pack or (lambda event: event.model_dump(mode="json"))
        self._unpack = unpack or event_type.model_validate

    def document(self, doc_id: str, event: E, fields: dict[str, Any] | None = None) -> Document:
        """The stage document holding `event` (and `fields`)."""
        return {"_id": doc_id, **(fields or {}), self.field: self._pack(event)}

    async def store(self, entries: Sequence[Entry[E]]) -> Stored[E]:
        """Insert-if-absent every (id, event, fields), in one batch; the events to publish.

        An entry whose id was taken yields the stored event instead of its own (one `$in` read
        for all of them), so a redelivery never publishes a second, different decision.
        """
        if not entries:
            return Stored([], frozenset())
        taken = await insert_new(
            self.collection, [self.document(i, event, fields) for i, event, fields in entries]
        )
        stored = await self.stored(sorted(taken)) if taken else {}
        if missing := taken - stored.keys():
            raise MissingDocumentsError(f"{len(missing)} taken documents lack {self.field}")
        chosen = {i: stored.get(i, event) for i, event, _ in entries}
        return Stored(list(chosen.values()), frozenset(chosen.keys() - taken))

    async def stored(self, doc_ids: Sequence[str]) -> dict[str, E]:
        """The stored events of these documents, where there are any."""
        if not doc_ids:
            return {}
        docs = await find_all(self.collection, {"_id": {"$in": list(doc_ids)}}, {self.field: 1})
        return {d["_id"]: self._unpack(d[self.field]) for d in docs if self.field in d}


class MemoryDecisions(Generic[E]):
    """The same bookkeeping in a dict, for handler tests."""

    def __init__(self) -> None:
        self.events: dict[str, E] = {}

    def put(self, doc_id: str, event: E) -> bool:
        """Keep `event` unless the document has one; True if it was kept."""
        if doc_id in self.events:
            return False
        self.events[doc_id] = event
        return True

    def keep(self, entries: Sequence[tuple[str, E]]) -> Stored[E]:
        """`put` each (id, event); the kept event of each id, and the ids kept just now."""
        new = frozenset(i for i, event in entries if self.put(i, event))
        return Stored([self.events[i] for i in dict.fromkeys(i for i, _ in entries)], new)


class Outbox(Generic[E]):
    """Outgoing events with published marks in `<collection>_published` (the SLA's, for now)."""

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

    async def insert_all(self, entries: Sequence[Entry[E]]) -> None:
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


class MemoryOutbox(MemoryDecisions[E]):
    """`MemoryDecisions` with published marks (the SLA's fake, for now)."""

    def __init__(self) -> None:
        super().__init__()
        self.published: set[str] = set()

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
