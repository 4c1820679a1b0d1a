"""The place history kept per process, exact by a change count per issue (ADR 0044).

`by_issues` returns every stored decision of a batch's (top category, area) pairs received in
the last 30 days (the hot-issue window). The local FerretDB decodes each of those rows on every
read, so a batch's read grew with the store (a second per batch at 50,000 stored). Those entries
seldom change once written, so a process keeps the ones it read, per issue, and reads an issue
again only when its **change count** says that someone else wrote to it.

The count (`classification_issue_counts`, `_id` `i<issue key>`, field `n`) is raised *after*
every write to an issue's entries: an insert (counted even when the entry was already there, a
redelivery), an incident link, a correction (under its old and its new issue). A reader reads
the counts first, then the entries of the issues whose count moved: every write counted in what
it read had landed before its entries were read, so a copy whose count is still the stored one
holds everything the store does. A write whose count is not raised yet is one in flight, which a
fresh read could equally have missed; a process killed between the write and its count leaves the
batch uncommitted, and its redelivery writes and counts again. A count can only be too high,
never too low, and a count too high only costs a read. The process's own inserts are added to its
copy with their count, so one classifier reads an issue once; two replicas deciding the same
issues read it whenever the other wrote (what every batch read before).

No personal data in the counts: issue digests and numbers. The copy holds what `by_issues`
returned (complainant keys are digests), never logged, bounded by `MAX_ENTRIES` (beyond, it is
dropped and rebuilt from reads).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from classifier.domain import PriorComplaint
from servicekit.mongo import Document, find_all, insert_new, write_in_chunks

COLLECTION = "classification_issue_counts"
MAX_ENTRIES = 100_000
"""Entries a process keeps at most (~50 MB); past it the copy is dropped and read again."""
_PRUNE_AFTER = timedelta(days=1)
"""Entries older than a read's window are dropped once the window has moved this far."""


def _doc_id(issue: str) -> str:
    return f"i{issue}"


class IssueCounts:
    """How many writes each issue's entries have had (never fewer than there were)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._counts = collection
        self._known: set[str] = set()
        """Count documents this process knows exist (they are never deleted)."""

    async def raise_counts(self, issues: Iterable[str | None]) -> None:
        """Count one write per issue named (after the writes): one insert of the missing count
        documents (none once known) and one `$inc` statement per issue."""
        counts = Counter(issue for issue in issues if issue)
        if not counts:
            return
        if missing := sorted(set(counts) - self._known):
            await insert_new(self._counts, [{"_id": _doc_id(i)} for i in missing])
            self._known.update(missing)
        await write_in_chunks(
            self._counts,
            [UpdateOne({"_id": _doc_id(i)}, {"$inc": {"n": n}}) for i, n in sorted(counts.items())],
        )

    async def read(self, issues: Sequence[str]) -> dict[str, int]:
        """The counts of these issues (0 for one never written): one `_id $in` read."""
        docs = await find_all(self._counts, {"_id": {"$in": [_doc_id(i) for i in issues]}})
        self._known.update(d["_id"][1:] for d in docs)
        found = {d["_id"][1:]: int(d.get("n") or 0) for d in docs}
        return {issue: found.get(issue, 0) for issue in issues}


@dataclass
class _Copy:
    """One issue's entries received since `since`, as of change count `count`."""

    count: int
    since: datetime
    entries: dict[str, PriorComplaint] = field(default_factory=dict)


class IssueCache:
    """The entries of issues this process read, valid while their change count stands."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self._copies: dict[str, _Copy] = {}
        self._limit = limit
        self._size = 0

    def stale(self, counts: Mapping[str, int], since: datetime) -> list[str]:
        """The issues of `counts` to read again: not held, changed by another writer, or held
        from a later time than `since`."""
        return [
            issue
            for issue, count in counts.items()
            if (copy := self._copies.get(issue)) is None
            or copy.count != count
            or copy.since > since
        ]

    def load(
        self, issue: str, count: int, since: datetime, entries: Iterable[PriorComplaint]
    ) -> None:
        """Hold the entries read for `issue` after its count was read as `count`."""
        old = self._copies.pop(issue, None)
        self._size -= len(old.entries) if old else 0
        copy = _Copy(count, since, {p.complaint_id: p for p in entries})
        self._copies[issue] = copy
        self._size += len(copy.entries)
        self._bound()

    def _bound(self) -> None:
        if self._size > self._limit:
            self._copies.clear()
            self._size = 0

    def entries(self, issue: str, since: datetime) -> list[PriorComplaint]:
        """The held entries of `issue` received since `since` (in the order first seen)."""
        copy = self._copies[issue]
        if since - copy.since > _PRUNE_AFTER:
            kept = {k: p for k, p in copy.entries.items() if p.received_at >= since}
            self._size -= len(copy.entries) - len(kept)
            copy.entries, copy.since = kept, since
        return [p for p in copy.entries.values() if p.received_at >= since]

    def written(self, entries: Iterable[tuple[str, PriorComplaint]]) -> None:
        """This process inserted these entries and then raised their issues' counts by one
        each: held copies take them and the count (an entry already held stays as held)."""
        for issue, prior in entries:
            if (copy := self._copies.get(issue)) is None:
                continue
            copy.count += 1
            if prior.complaint_id not in copy.entries and prior.received_at >= copy.since:
                copy.entries[prior.complaint_id] = prior
                self._size += 1
        self._bound()
