"""In-memory SLA stores for handler and scheduler tests; same contract as the Mongo ones."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from contracts import CaseState, Verdict
from sla.adapters.census_tally import (
    CensusRow,
    Part,
    counts_of,
    difference,
    landed,
    new_token,
    rows,
    summed,
)
from sla.clocks.codec import ms
from sla.held import HeldReceipt
from sla.ports import (
    CaseChange,
    CaseFilter,
    CasePaging,
    CaseRecord,
    CaseSummary,
    DueEntry,
    Submission,
    after,
)


class InMemoryCaseStore:
    """Case documents in a dict, with the same compare-and-set on the version."""

    def __init__(self) -> None:
        self.records: dict[str, CaseRecord] = {}
        self.verdicts: dict[str, dict[str, tuple[datetime, Verdict]]] = {}
        self.writes = 0  # compare-and-set attempts, won or lost
        self.batches = 0  # batched writes (`commit_many`)
        self.changes: dict[str, list[CaseChange]] = {}  # stored changes, for tests to inspect
        self.tally: Counter[str] = Counter()  # the census tally (`sla.adapters.census_tally`)
        self.pending: dict[str, tuple[float, list[Part]]] = {}  # announced differences
        self.inserted_by: dict[str, str] = {}  # complaint id → the insert's token
        self.held: dict[str, HeldReceipt] = {}  # acknowledgements ahead of their case

    def state(self, complaint_id: str) -> CaseState:
        """The stored state of one case."""
        return self.records[complaint_id].case.state

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def insert_new(self, records: Sequence[CaseRecord]) -> list[str]:
        """Insert-if-absent by complaint id; the tally as the Mongo store keeps it."""
        mark = new_token()
        counted = {r.complaint_id: counts_of(r.clocks) for r in records}
        token = self._announce([(cid, mark, d) for cid, d in counted.items()], mark)
        taken = []
        for record in records:
            if record.complaint_id in self.records:
                taken.append(record.complaint_id)
            else:
                self.records[record.complaint_id] = record
                self.inserted_by[record.complaint_id] = mark
        await self.settle_tally(token, summed(d for c, d in counted.items() if c not in taken))
        return taken

    async def load_many(
        self, complaint_ids: Sequence[str], *, log: bool = True
    ) -> dict[str, CaseRecord]:
        """The stored cases among these ids (without their log if asked)."""
        found = {cid: self.records[cid] for cid in complaint_ids if cid in self.records}
        return found if log else {cid: replace(r, log=()) for cid, r in found.items()}

    async def load(self, complaint_id: str, *, log: bool = True) -> CaseRecord | None:
        """The stored case (without its log if asked)."""
        return (await self.load_many([complaint_id], log=log)).get(complaint_id)

    async def load_started(self, complaint_ids: Sequence[str]) -> dict[str, CaseRecord]:
        """The stored cases without their log (a dict look-up costs nothing to remember)."""
        return await self.load_many(complaint_ids, log=False)

    async def commit(self, record: CaseRecord, change: CaseChange) -> bool:
        """Compare-and-set on the version, its tally difference announced and settled."""
        diff = difference(record.clocks, change.clocks)
        token = self._announce([(record.complaint_id, change.entry.id, diff)])
        won = self._commit(record, change)
        await self.settle_tally(token, diff if won else {})
        return won

    def _commit(self, record: CaseRecord, change: CaseChange) -> bool:
        self.writes += 1
        stored = self.records.get(record.complaint_id)
        if stored is None or stored.version != record.version:
            return False
        # Built from the stored record: refusals and marks written beside the CAS are kept.
        self.records[record.complaint_id] = after(stored, change)
        self.changes.setdefault(record.complaint_id, []).append(change)
        return True

    async def commit_many(self, changes: Sequence[tuple[CaseRecord, CaseChange]]) -> set[str]:
        """`commit` each; the ids whose change was stored (`batches` counts the calls)."""
        self.batches += 1
        return {r.complaint_id for r, change in changes if await self.commit(r, change)}

    def _announce(self, parts: Sequence[Part], token: str | None = None) -> str | None:
        counted = [p for p in parts if p[2]]
        if not counted:
            return None
        token = token or new_token()
        self.pending[token] = (time.time(), counted)
        return token

    async def settle_tally(self, token: str | None, diff: Mapping[str, int]) -> None:
        """Add a write's stored difference once (the step a crash may skip)."""
        if token is not None and self.pending.pop(token, None) is not None:
            self.tally.update(diff)

    async def heal_tally(self, older_than: float) -> int:
        """Settle announcements older than `older_than` s by what their cases show stored."""
        cutoff = time.time() - older_than
        stale = {t: parts for t, (at, parts) in self.pending.items() if at <= cutoff}
        for token, parts in stale.items():
            marks = {
                cid: {*(c.entry.id for c in self.changes.get(cid, ())), self.inserted_by.get(cid)}
                for cid, _, _ in parts
            }
            await self.settle_tally(token, landed(parts, marks))
        return len(stale)

    async def mark_published(self, entries: Sequence[tuple[str, str]]) -> None:
        """Drop the entries from their case's unpublished list (the version stays)."""
        for cid, entry_id in entries:
            if (record := self.records.get(cid)) is not None:
                left = tuple(i for i in record.unpublished if i != entry_id)
                self.records[cid] = replace(record, unpublished=left)

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """Keep the refusal with the case."""
        record = self.records.get(complaint_id)
        if record is not None:
            refusals = {**record.refusals, action_id: (reason, detail)}
            self.records[complaint_id] = replace(record, refusals=refusals)

    async def record_submission(
        self, complaint_id: str, action_id: str, submission: Submission
    ) -> Submission | None:
        """Set-if-absent on the case's submissions."""
        record = self.records.get(complaint_id)
        if record is None:
            return None
        if (kept := record.submissions.get(action_id)) is not None:
            return kept
        submissions = {**record.submissions, action_id: submission}
        self.records[complaint_id] = replace(record, submissions=submissions)
        return None

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """One verdict per complaint in the complainant's record."""
        record = self.verdicts.setdefault(complainant_key, {})
        record.setdefault(complaint_id, (at, verdict))
        return list(record.values())

    async def search(
        self, query: CaseFilter, paging: CasePaging | None = None
    ) -> list[CaseSummary]:
        """Cases matching every given field and bound, in the list's order, one page."""
        paging = paging or CasePaging()
        found = [
            row
            for record in self.records.values()
            if _matches(row := summary_of(record), query) and _within(row, paging)
        ]
        return sorted(found, key=lambda row: row.list_key(paging))[: paging.limit]

    async def census(self) -> list[CensusRow]:
        """Counts by (clock, severity, status, outcome) from the tally the writes keep."""
        return rows(self.tally)

    async def recount(self) -> list[CensusRow]:
        """The same counts from every stored sheet."""
        return rows(summed(counts_of(r.clocks) for r in self.records.values()))

    async def hold_receipts(self, receipts: Sequence[HeldReceipt]) -> None:
        """The first kept per case stays."""
        for receipt in receipts:
            self.held.setdefault(receipt.complaint_id, receipt)

    async def held_receipts(self, complaint_ids: Sequence[str]) -> dict[str, HeldReceipt]:
        """The kept ones among these cases."""
        return {cid: self.held[cid] for cid in complaint_ids if cid in self.held}

    async def drop_receipts(self, complaint_ids: Sequence[str]) -> None:
        """Forget them."""
        for cid in complaint_ids:
            self.held.pop(cid, None)


def summary_of(record: CaseRecord) -> CaseSummary:
    """A list row of a case."""
    return CaseSummary(
        facts=record.facts,
        state=record.case.state,
        severity=record.case.severity,
        assignee=record.assignee,
        department=record.department,
        running=tuple(c for c in record.clocks if c.running and c.clock is not None),
        review=record.review_reason is not None,
    )


def _within(row: CaseSummary, paging: CasePaging) -> bool:
    due = row.next_due
    if paging.due_by is not None and (due is None or due > ms(paging.due_by)):
        return False
    if paging.due_between is not None:
        start, end = (ms(t) for t in paging.due_between)
        if due is None or not start < due <= end:
            return False
    return paging.after is None or row.list_key(paging) > paging.after


def _matches(row: CaseSummary, query: CaseFilter) -> bool:
    wanted = (
        (query.state, row.state),
        (query.severity, row.severity),
        (query.category, row.facts.category),
        (query.channel, row.facts.channel),
        (query.assignee, row.assignee),
        (query.review or None, row.review),
    )
    return all(want is None or want == have for want, have in wanted)


class InMemoryDueIndex:
    """Due entries in a list; settled ones are dropped when the index advances."""

    def __init__(self) -> None:
        self.entries: list[DueEntry] = []
        self._settled: set[DueEntry] = set()
        self._upcoming: datetime | None = None

    async def add(self, entries: Sequence[DueEntry], *, now: datetime) -> None:  # noqa: ARG002
        """Keep the entries (duplicates are one entry)."""
        for entry in entries:
            if entry not in self.entries:
                self.entries.append(entry)

    async def due(self, *, now: datetime, limit: int) -> list[tuple[int, DueEntry]]:
        """Unsettled entries due by `now`, oldest first."""
        due = sorted(
            (e for e in self.entries if e[1] <= now and e not in self._settled),
            key=lambda e: (e[1], e[0], e[2]),
        )
        self._upcoming = min((e[1] for e in self.entries if e[1] > now), default=None)
        return [(0, e) for e in due[:limit]]

    def settle(self, slot: int, entry: DueEntry) -> None:  # noqa: ARG002
        """Remember the entry needs nothing more."""
        self._settled.add(entry)

    async def advance(self, *, now: datetime) -> None:  # noqa: ARG002
        """Drop settled entries."""
        self.entries = [e for e in self.entries if e not in self._settled]
        self._settled.clear()

    def upcoming(self) -> datetime | None:
        """The earliest fire time ahead of now in the last read."""
        return self._upcoming
