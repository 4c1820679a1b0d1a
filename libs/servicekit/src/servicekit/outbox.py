"""Store-then-publish: the first decision wins, is stored, and is what gets published.

A stage inserts its outgoing event into its own document for the complaint (keyed by complaint
id, inserted only if absent), publishes, and only then lets the consumer commit the input's
offset (`servicekit.delivery`). A redelivered input finds its document taken and publishes the
*stored* event again, byte for byte, with its deterministic id; consumers are idempotent on that
id (or on the complaint id), so downstream sees one decision however often the input comes.
No "published" mark is written: the committed offset is that mark (ADR 0003, addendum).

`Decisions` / `MemoryDecisions` are that bookkeeping; no stage keeps a `*_published` mark
collection (`tests/architecture/test_no_mark_collections.py` keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from contracts import Event
from servicekit.mongo import Document, find_all, insert_new

E = TypeVar("E", bound=Event)
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
