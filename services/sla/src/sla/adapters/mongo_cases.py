"""SLA cases in MongoDB (or FerretDB): `cases` (the unit of SLA state), `complainants`,
`census` (the clock tally the case writes keep, `sla.adapters.census_tally`) and
`held_receipts` (acknowledgements that arrived before their case)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime

import bson
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Verdict
from servicekit.mongo import (
    WRITE_CHUNK,
    Document,
    ensure_index,
    find_all,
    insert_new,
    write_in_chunks,
)
from sla.adapters.case_documents import (
    case_document,
    change_update,
    field_key,
    record_from,
    sheet_of,
    submission_doc,
)
from sla.adapters.case_list import LIST_INDEXES, read_page
from sla.adapters.census_journal import MongoTally
from sla.adapters.census_tally import (
    INSERTED_BY,
    CensusRow,
    counts_of,
    difference,
    new_token,
    rows,
    summed,
)
from sla.adapters.memory import summary_of
from sla.held import HeldReceipt
from sla.ports import (
    CaseChange,
    CaseFilter,
    CasePaging,
    CaseRecord,
    CaseSummary,
    Submission,
)

STARTED_KEPT = 5000
"""Cases kept as inserted for `load_started` (~5 KB each, without their log): at 500 complaints
a second, ten seconds between a case's start and its acknowledgement (ADR 0042)."""


class MongoCaseStore:
    """`cases`: one document per complaint; every change is a compare-and-set on `version`."""

    def __init__(self, db: AsyncDatabase[Document], *, kept: int = STARTED_KEPT) -> None:
        self._cases = db["cases"]
        self._complainants = db["complainants"]
        self._tally = MongoTally(db["census"], self._cases)
        self._held = db["held_receipts"]
        self._started: OrderedDict[str, bytes] = OrderedDict()  # id → inserted document
        self._kept = kept

    async def ensure_indexes(self) -> None:
        """The list's filters and order (FerretDB's local build narrows by their leading field)."""
        for keys in LIST_INDEXES:
            await ensure_index(self._cases, keys)

    async def insert_new(self, records: Sequence[CaseRecord]) -> list[str]:
        """One batch insert; ids already stored are returned (a redelivery changes nothing).
        Each inserted case carries the announcement's token: what shows `heal` it was this
        insert that stored it."""
        mark = new_token()
        counted = [(r.complaint_id, counts_of(r.clocks)) for r in records]
        token = await self._tally.announce([(cid, mark, d) for cid, d in counted], mark)
        docs = [{**case_document(r), INSERTED_BY: mark} for r in records]
        taken = await insert_new(self._cases, docs)
        await self.settle_tally(token, summed(d for cid, d in counted if cid not in taken))
        self._keep_started([d for d in docs if d["_id"] not in taken])
        return sorted(taken)

    def _keep_started(self, docs: Sequence[Document]) -> None:
        """Remember inserted cases as BSON without their log (what a read would return, times
        cut to milliseconds as stored), the oldest forgotten past `kept`."""
        options = self._cases.codec_options
        for doc in docs:
            self._started[doc["_id"]] = bson.encode(
                {k: v for k, v in doc.items() if k != "log"}, codec_options=options
            )
        while len(self._started) > self._kept:
            self._started.popitem(last=False)

    async def load_started(self, complaint_ids: Sequence[str]) -> dict[str, CaseRecord]:
        """Cases inserted here lately as inserted (each once), the rest in one read."""
        options = self._cases.codec_options
        found = {
            cid: record_from(bson.decode(raw, codec_options=options))
            for cid in dict.fromkeys(complaint_ids)
            if (raw := self._started.pop(cid, None)) is not None
        }
        if rest := [cid for cid in complaint_ids if cid not in found]:
            found.update(await self.load_many(rest, log=False))
        return found

    async def load_many(
        self, complaint_ids: Sequence[str], *, log: bool = True
    ) -> dict[str, CaseRecord]:
        """One `_id $in` read (the log left on the server if not wanted)."""
        wanted = sorted(set(complaint_ids))
        if not wanted:
            return {}
        query = {"_id": wanted[0]} if len(wanted) == 1 else {"_id": {"$in": wanted}}
        # Receipts kept on cases before ADR 0006's 2026-12-07 addendum are never read.
        docs = await find_all(
            self._cases, query, {"receipts": 0} if log else {"log": 0, "receipts": 0}
        )
        return {doc["_id"]: record_from(doc) for doc in docs if "received_at" in doc}

    async def load(self, complaint_id: str, *, log: bool = True) -> CaseRecord | None:
        """The stored case (by `_id`)."""
        return (await self.load_many([complaint_id], log=log)).get(complaint_id)

    async def commit(self, record: CaseRecord, change: CaseChange) -> bool:
        """One conditional update on (`_id`, `version`), its tally difference announced before
        and settled after (a lost compare-and-set settles nothing: it adds nothing)."""
        self._started.pop(record.complaint_id, None)  # its inserted form is old now
        diff = difference(record.clocks, change.clocks)
        token = await self._tally.announce([(record.complaint_id, change.entry.id, diff)])
        result = await self._cases.update_one(
            {"_id": record.complaint_id, "version": record.version}, change_update(change)
        )
        won = result.modified_count == 1
        await self.settle_tally(token, diff if won else {})
        return won

    async def commit_many(self, changes: Sequence[tuple[CaseRecord, CaseChange]]) -> set[str]:
        """The conditional updates as unordered `bulk_write`s of `WRITE_CHUNK` statements (the
        most the local server takes in one command). A chunk that stored fewer than all was
        raced by another writer: one `_id $in` read of its log ids says whose changes landed."""
        for record, _ in changes:
            self._started.pop(record.complaint_id, None)  # its inserted form is old now
        diffs = {r.complaint_id: difference(r.clocks, c.clocks) for r, c in changes}
        token = await self._tally.announce(
            [(r.complaint_id, c.entry.id, diffs[r.complaint_id]) for r, c in changes]
        )
        won: set[str] = set()
        for start in range(0, len(changes), WRITE_CHUNK):
            chunk = changes[start : start + WRITE_CHUNK]
            result = await self._cases.bulk_write(
                [
                    UpdateOne({"_id": r.complaint_id, "version": r.version}, change_update(c))
                    for r, c in chunk
                ],
                ordered=False,
            )
            ids = [r.complaint_id for r, _ in chunk]
            if result.modified_count == len(chunk):
                won.update(ids)
                continue
            docs = await find_all(self._cases, {"_id": {"$in": ids}}, {"log.id": 1})
            logged = {d["_id"]: {e.get("id") for e in d.get("log", ())} for d in docs}
            won.update(
                r.complaint_id for r, c in chunk if c.entry.id in logged.get(r.complaint_id, ())
            )
        # The census tally: what the won changes did to their sheets, in one `$inc`.
        await self.settle_tally(token, summed(diffs[cid] for cid in won))
        return won

    async def mark_published(self, entries: Sequence[tuple[str, str]]) -> None:
        """`$pull` from `unpublished`, in chunks; the version stays (no change to the case).

        One statement per entry: FerretDB 1.x pulls by value, not by an `$in` condition.
        """
        await write_in_chunks(
            self._cases,
            [
                UpdateOne({"_id": cid}, {"$pull": {"unpublished": entry_id}})
                for cid, entry_id in dict.fromkeys(entries)
            ],
        )

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """`refusals.<action id>` on the case document (the state and version are untouched)."""
        entry = {"action_id": action_id, "reason": reason, "detail": detail}
        await self._cases.update_one(
            {"_id": complaint_id}, {"$set": {f"refusals.{field_key(action_id)}": entry}}
        )

    async def record_submission(
        self, complaint_id: str, action_id: str, submission: Submission
    ) -> Submission | None:
        """`submitted.<action id>`, set only where absent (one conditional update by `_id`)."""
        path = f"submitted.{field_key(action_id)}"
        entry = {"action_id": action_id, **submission_doc(submission)}
        result = await self._cases.update_one(
            {"_id": complaint_id, path: {"$exists": False}}, {"$set": {path: entry}}
        )
        if result.modified_count == 1:
            return None
        stored = await self.load_many([complaint_id], log=False)
        record = stored.get(complaint_id)
        return record.submissions.get(action_id) if record is not None else None

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """`complainants.<key>.verdicts`, one entry per complaint (a redelivery adds nothing)."""
        entry = {"complaint_id": complaint_id, "at": at, "verdict": verdict.value}
        await self._complainants.update_one(
            {"_id": complainant_key}, {"$addToSet": {"verdicts": entry}}, upsert=True
        )
        docs = await find_all(self._complainants, {"_id": complainant_key})
        seen: dict[str, tuple[datetime, Verdict]] = {}
        for item in docs[0].get("verdicts", []) if docs else []:
            seen[item["complaint_id"]] = (item["at"], Verdict(item["verdict"]))
        return list(seen.values())

    async def search(
        self, query: CaseFilter, paging: CasePaging | None = None
    ) -> list[CaseSummary]:
        """One page in one `find` (sort, limit and `maxTimeMS` sent; `sla.adapters.case_list`)."""
        docs = await read_page(self._cases, query, paging or CasePaging())
        return [summary_of(record_from(doc)) for doc in docs if "received_at" in doc]

    async def census(self) -> list[CensusRow]:
        """The tally the writes keep: one read of one small document."""
        return await self._tally.read()

    async def settle_tally(self, token: str | None, diff: Mapping[str, int]) -> None:
        """Add a write's stored difference to the tally, once (the step a crash may skip)."""
        await self._tally.settle(token, diff)

    async def heal_tally(self, older_than: float) -> int:
        """Settle what writers that died after their case write left announced."""
        return await self._tally.heal(older_than)

    async def recount(self) -> list[CensusRow]:
        """The same counts from every stored sheet (a scan that decodes every case)."""
        docs = await find_all(self._cases, {}, {"clocks": 1, "received_at": 1})
        return rows(summed(counts_of(sheet_of(d)) for d in docs if "received_at" in d))

    async def hold_receipts(self, receipts: Sequence[HeldReceipt]) -> None:
        """One batch insert by complaint id (a kept one stays: the first acknowledgement wins)."""
        docs = [{"_id": r.complaint_id, "entry": r.entry_id, "at": r.at} for r in receipts]
        if docs:
            await insert_new(self._held, docs)

    async def held_receipts(self, complaint_ids: Sequence[str]) -> dict[str, HeldReceipt]:
        """One `_id $in` read (the collection holds only receipts that raced their case)."""
        wanted = sorted(set(complaint_ids))
        if not wanted:
            return {}
        docs = await find_all(self._held, {"_id": {"$in": wanted}})
        return {d["_id"]: HeldReceipt(d["_id"], d["entry"], d["at"]) for d in docs}

    async def drop_receipts(self, complaint_ids: Sequence[str]) -> None:
        """One `delete_many` by `_id $in`."""
        if complaint_ids:
            await self._held.delete_many({"_id": {"$in": sorted(set(complaint_ids))}})
