"""A time-bucketed index of fire times that needs nothing from the server but `_id` look-ups.

The scheduler must find "what is due now" among a million open deadlines within a second. On
MongoDB a `(status, next_fire_at)` index answers that; on FerretDB 1.x only a plain `_id` filter
is pushed down, so the same query scans every deadline (ADR 0001, ADR 0004). So the store keeps its
own index: one document per time slot (`_id` = slot start in epoch seconds, every `width` seconds),
listing `"<deadline id>|<fire time in epoch ms>|<percent>"` entries. Writers add an entry whenever a
deadline's next fire time changes; the scheduler reads the slots from a shared watermark up to
now, checks each entry against its deadline (stale entries — deadline moved, met, fired — are
skipped), and advances the watermark once every entry of a slot is settled.

Entries are never removed from a slot, only outgrown: the watermark moves past settled slots and
the replica that moves it deletes them. A writer whose entry would land behind the watermark puts it
into the slot of "now" instead; the watermark only passes a slot `settle` seconds after it ended, so
a write in flight at the boundary is still seen.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document, find_all, write_in_chunks

Entry = tuple[str, datetime, int]  # the same as sla.ports.DueEntry
"""(deadline id, fire time, threshold percent): thresholds may share an instant."""

WATERMARK_ID = "watermark"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def _epoch_ms(at: datetime) -> int:
    return (at - EPOCH) // MS  # exact integer arithmetic: floats would drift by a microsecond


def encode(entry: Entry) -> str:
    """The stored form of an entry."""
    return f"{entry[0]}|{_epoch_ms(entry[1])}|{entry[2]}"


def slot_key(slot: int) -> str:
    """A slot's `_id`: a string, because FerretDB pushes down string (not integer) `_id` filters."""
    return f"s{slot:012d}"


def decode(raw: str) -> Entry:
    """An entry back from its stored form."""
    rest, _, percent = raw.rpartition("|")
    deadline_id, _, ms = rest.rpartition("|")
    return deadline_id, EPOCH + int(ms) * MS, int(percent)


@dataclass
class SlotIndex:
    """Slots of `width` seconds in `<db>.deadline_slots`, the watermark in `scheduler_state`."""

    db: AsyncDatabase[Document]
    width: int = 10
    settle: timedelta = timedelta(seconds=10)
    _settled: dict[int, set[Entry]] = field(default_factory=lambda: defaultdict(set))
    _parsed: dict[int, list[Entry]] = field(default_factory=dict)
    _started: bool = False

    def __post_init__(self) -> None:
        self._slots = self.db["deadline_slots"]
        self._state = self.db["scheduler_state"]

    def slot_of(self, at: datetime) -> int:
        """The slot (epoch seconds of its start) an instant falls into."""
        return math.floor(at.timestamp() / self.width) * self.width

    async def add(self, entries: Iterable[Entry], *, now: datetime) -> None:
        """Index fire times; an entry already due goes into the slot of `now` (never behind)."""
        current = self.slot_of(now)
        if not self._started:
            # The watermark starts no later than the first slot anything was written to.
            await self._state.update_one(
                {"_id": WATERMARK_ID}, {"$setOnInsert": {"slot": current}}, upsert=True
            )
            self._started = True
        by_slot: dict[int, list[str]] = defaultdict(list)
        for entry in entries:
            by_slot[max(self.slot_of(entry[1]), current)].append(encode(entry))
        ops = [
            UpdateOne({"_id": slot_key(slot)}, {"$push": {"e": {"$each": values}}}, upsert=True)
            for slot, values in sorted(by_slot.items())
        ]
        if ops:
            await write_in_chunks(self._slots, ops)

    async def watermark(self) -> int | None:
        """The first slot not known to be settled; None while nothing was ever indexed."""
        docs = await find_all(self._state, {"_id": WATERMARK_ID})
        return int(docs[0]["slot"]) if docs else None

    async def read(self, slots: Sequence[int]) -> dict[int, list[Entry]]:
        """Entries of each slot, in one read (`_id $in`, pushed down like an equality).

        Writers only ever append, so entries parsed in an earlier round are kept and only the new
        tail of each slot is decoded.
        """
        keys = [slot_key(slot) for slot in slots]
        query = {"_id": keys[0]} if len(keys) == 1 else {"_id": {"$in": keys}}
        stored = {doc["_id"]: doc.get("e", []) for doc in await find_all(self._slots, query)}
        out: dict[int, list[Entry]] = {}
        for slot, key in zip(slots, keys, strict=True):
            raw = stored.get(key, [])
            known = self._parsed.setdefault(slot, [])
            known.extend(decode(value) for value in raw[len(known) :])
            out[slot] = known
        return out

    def span(self, first: int, until: datetime) -> list[int]:
        """Slots from `first` up to the one holding `until`."""
        return list(range(first, self.slot_of(until) + self.width, self.width))

    def forget(self, *, before: int) -> None:
        """Drop what this replica remembers about slots behind the watermark."""
        for memory in (self._settled, self._parsed):
            for old in [s for s in memory if s < before]:
                del memory[old]

    def settled(self, slot: int, entry: Entry) -> None:
        """Remember (in this replica) that an entry needs nothing more."""
        self._settled[slot].add(entry)

    def is_settled(self, slot: int, entry: Entry) -> bool:
        """Whether this replica already settled `entry`."""
        return entry in self._settled.get(slot, ())

    async def advance(self, *, frm: int, entries: dict[int, list[Entry]], now: datetime) -> int:
        """Move the watermark past every leading slot whose entries are all settled.

        Only slots that ended `settle` ago qualify. Several replicas may race: the update is
        conditional on the old value, so the watermark only ever moves forward.
        """
        limit = self.slot_of(now - self.settle) - self.width
        slot = frm
        while slot <= limit and all(
            self.is_settled(slot, entry) for entry in entries.get(slot, [])
        ):
            slot += self.width
        if slot != frm:
            moved = await self._state.update_one(
                {"_id": WATERMARK_ID, "slot": frm}, {"$set": {"slot": slot}}
            )
            if moved.modified_count:
                for passed in range(frm, slot, self.width):
                    await self._slots.delete_one({"_id": slot_key(passed)})  # all settled
            self.forget(before=slot)
        return slot


class MongoDueIndex:
    """The `DueIndex` port over the slot index: what is due, read from the watermark to now."""

    def __init__(self, db: AsyncDatabase[Document], *, width: int = 10, settle: timedelta) -> None:
        self.slots = SlotIndex(db, width=width, settle=settle)
        self._first: int | None = None
        self._entries: dict[int, list[Entry]] = {}
        self._upcoming: datetime | None = None

    async def add(self, entries: Sequence[Entry], *, now: datetime) -> None:
        """Push the entries into their slots."""
        await self.slots.add(entries, now=now)

    async def due(self, *, now: datetime, limit: int) -> list[tuple[int, Entry]]:
        """Unsettled entries due by `now` from the watermark's slot on.

        The shared watermark and the slots from the one last seen are read together (one round
        trip); slots the watermark has passed meanwhile are dropped, and only if it is behind
        the one last seen (another replica's view, a fresh database) are slots read again.
        """
        until = now + timedelta(seconds=self.slots.width)
        known = self._first
        if known is None:
            first, entries = await self.slots.watermark(), None
        else:
            first, entries = await asyncio.gather(
                self.slots.watermark(), self.slots.read(self.slots.span(known, until))
            )
        self._first = first
        if first is None:
            self._entries = {}
            return []
        self.slots.forget(before=first)  # another replica may have moved the watermark
        span = self.slots.span(first, until)
        if entries is None or any(slot not in entries for slot in span):
            entries = await self.slots.read(span)
        self._entries = {slot: entries[slot] for slot in span}
        due = [
            (slot, entry)
            for slot in span
            for entry in self._entries[slot]
            if entry[1] <= now and not self.slots.is_settled(slot, entry)
        ]
        ahead = [e[1] for slot in span for e in self._entries[slot] if e[1] > now]
        self._upcoming = min(ahead, default=None)
        return sorted(due, key=lambda p: (p[1][1], p[1][0]))[:limit]

    def settle(self, slot: int, entry: Entry) -> None:
        """Remember (in this replica) that the entry needs nothing more."""
        self.slots.settled(slot, entry)

    async def advance(self, *, now: datetime) -> None:
        """Move the shared watermark past slots whose entries are all settled."""
        if self._first is not None:
            self._first = await self.slots.advance(frm=self._first, entries=self._entries, now=now)

    def upcoming(self) -> datetime | None:
        """The earliest fire time seen ahead of now in the last read."""
        return self._upcoming
