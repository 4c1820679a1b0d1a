"""The case list at a million cases under two sets of `cases` indexes: list latency and write cost.

A private FerretDB of the local build (its own port and data folder, as `bench/doc_shape.py`)
is loaded once with `--cases` case documents — each the document the SLA stores for a classified
complaint (`StartClocks.case_of`, written by `case_document`), with its list fields drawn as a
long-lived store has them: most cases closed, a tenth open with a next due time (some overdue),
200 handlers, 30 categories (skewed), 17 channels (skewed), 1 % awaiting review. For each index
set (`full`: the SLA's 14, `LIST_INDEXES`; `lean`: 10; `least`: 5 — each a subset of the one
before, so the next set only drops indexes), the list indexes are built, then

- every query of `QUERIES` is read through the SLA's own `read_page` (its filter, order, hint —
  the hint chosen among the set's indexes — and limit), `--repeat` times: the median wall time,
  the server's CPU per read (from /proc, robust on a shared machine) and the rows returned;
- `--writes` new cases are inserted in the SLA's batches of 100, and as many compare-and-sets on
  (`_id`, `version`) update stored open cases (the acknowledgement's: state, sheet, history):
  server CPU per case from /proc.

    python bench/case_list_indexes.py --cases 1000000   # in your network namespace (a port)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from case_list_seed import NOW, case_at, seed, templates
from scratch_ferretdb import cpu, scratch_server

from contracts import CaseState, Channel, Severity
from sla.adapters.case_list import DUE_ORDER, LIST_FIELDS, LIST_INDEXES, ORDER, Keys, read_page
from sla.ports import CaseFilter, CasePaging

PORT = 27094
PAGE = 50
LEAN: list[Keys] = [
    ORDER,
    DUE_ORDER,
    *([(f, 1), *ORDER] for f in LIST_FIELDS),
    *([(f, 1), *DUE_ORDER] for f in ("state", "assignee")),
]
"""10: every equality in front of the receipt order, only the working queues' in front of the due
order (severity, category, channel and review due lists walk the due order alone)."""
LEAST: list[Keys] = [ORDER, DUE_ORDER, *([(f, 1), *ORDER] for f in ("state", "assignee", "review"))]
"""5: each order, and the working queues' equalities in front of the receipt order."""


def _query(**fields: Any) -> CaseFilter:
    return CaseFilter(**fields)


def _paging(*, due_in_hours: float | None = None, overdue: bool = False) -> CasePaging:
    if overdue:
        return CasePaging(due_by=NOW, limit=PAGE)
    if due_in_hours is not None:
        return CasePaging(due_between=(NOW, NOW + timedelta(hours=due_in_hours)), limit=PAGE)
    return CasePaging(limit=PAGE)


QUERIES: tuple[tuple[str, CaseFilter, CasePaging], ...] = (
    ("whole list", _query(), _paging()),
    ("state=classified (1 %)", _query(state=CaseState.CLASSIFIED), _paging()),
    ("state=in_progress (2 %)", _query(state=CaseState.IN_PROGRESS), _paging()),
    ("state=closed (70 %)", _query(state=CaseState.CLOSED), _paging()),
    ("assignee=handler-007", _query(assignee="handler-007"), _paging()),
    ("review (1 %)", _query(review=True), _paging()),
    ("severity=P1 (5 %)", _query(severity=Severity.P1), _paging()),
    ("channel=regulator (~0.9 %)", _query(channel=Channel.REGULATOR), _paging()),
    ("category=cat/29 (rare)", _query(category="cat/29"), _paging()),
    ("category=cat/00 (common)", _query(category="cat/00"), _paging()),
    ("overdue", _query(), _paging(overdue=True)),
    ("overdue, state=dispatched", _query(state=CaseState.DISPATCHED), _paging(overdue=True)),
    ("overdue, assignee=handler-007", _query(assignee="handler-007"), _paging(overdue=True)),
    ("overdue, severity=P1", _query(severity=Severity.P1), _paging(overdue=True)),
    ("overdue, channel=regulator", _query(channel=Channel.REGULATOR), _paging(overdue=True)),
    ("overdue, category=cat/29", _query(category="cat/29"), _paging(overdue=True)),
    ("overdue, category=cat/00", _query(category="cat/00"), _paging(overdue=True)),
    ("overdue, severity=P4 (40 %)", _query(severity=Severity.P4), _paging(overdue=True)),
    ("overdue, review", _query(review=True), _paging(overdue=True)),
    ("due within 2 h", _query(), _paging(due_in_hours=2)),
    ("due within 24 h, assignee", _query(assignee="handler-007"), _paging(due_in_hours=24)),
    ("due within 24 h, review", _query(review=True), _paging(due_in_hours=24)),
)
"""Each list filter alone (rare and common values), with the due order, and a due window."""


@dataclass(frozen=True)
class Read:
    """One query's figures under one index set."""

    wall_ms: float
    cpu_ms: float
    rows: int
    error: str = ""


async def timed(db: Any, pid: int, indexes: list[Keys], repeat: int) -> dict[str, Read]:
    """Each query `repeat` times through `read_page`: median wall, server CPU per read, rows."""
    out: dict[str, Read] = {}
    for name, query, paging in QUERIES:
        walls: list[float] = []
        rows, error = 0, ""
        await asyncio.sleep(0.2)
        before = cpu(pid)
        for _ in range(repeat):
            started = time.perf_counter()
            try:
                rows = len(await read_page(db["cases"], query, paging, indexes))
            except Exception as exc:
                error = type(exc).__name__
            walls.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.2)
        spent = (cpu(pid) - before) * 1000 / repeat
        out[name] = Read(statistics.median(walls), spent, rows, error)
    return out


async def writes(db: Any, pid: int, count: int, writes_n: int, tag: str) -> tuple[float, float]:
    """Server CPU ms per case: batched inserts of new cases, and compare-and-sets on open ones."""
    base, rng = templates(db), random.Random(11)
    docs = [case_at(count + n, count, rng, base) for n in range(writes_n)]
    for d in docs:
        d["_id"] = f"{d['_id']}-{tag}"
    await asyncio.sleep(0.3)
    before = cpu(pid)
    for first in range(0, len(docs), 100):
        await db["cases"].insert_many(docs[first : first + 100], ordered=False)
    await asyncio.sleep(0.3)
    insert_ms = (cpu(pid) - before) * 1000 / len(docs)
    await db["cases"].delete_many({"_id": {"$in": [d["_id"] for d in docs]}})
    fields = {"_id": 1, "version": 1, "next_due": 1}
    targets = [d async for d in db["cases"].find({"state": "classified"}, fields, limit=writes_n)]
    await asyncio.sleep(0.3)
    before = cpu(pid)
    for d in targets:
        update = {
            "$set": {"state": "acknowledged", "acknowledged": True, "next_due": NOW},
            "$inc": {"version": 1},
            "$push": {"history": {"action_id": f"receipt:{tag}", "actor": "notifier", "at": NOW}},
        }
        result = await db["cases"].update_one({"_id": d["_id"], "version": d["version"]}, update)
        if result.modified_count != 1:
            raise SystemExit("a compare-and-set missed")
        # back to classified, so the next set updates the same cases
        back = {"$set": {"state": "classified", "next_due": d["next_due"]}}
        await db["cases"].update_one({"_id": d["_id"]}, back)
    await asyncio.sleep(0.3)
    cas_ms = (cpu(pid) - before) * 1000 / (2 * max(1, len(targets)))
    return insert_ms, cas_ms


async def run(args: argparse.Namespace, db: Any, pid: int) -> None:
    print(f"load average {os.getloadavg()[0]:.2f}; seeding {args.cases:,} cases", flush=True)
    seconds = await seed(db, args.cases)
    print(f"seeded in {seconds:,.0f} s", flush=True)
    sets = {"full": LIST_INDEXES, "lean": LEAN, "least": LEAST}
    results: dict[str, dict[str, Read]] = {}
    costs: dict[str, tuple[float, float]] = {}
    for name in args.sets:
        indexes = sets[name]
        started, before = time.monotonic(), cpu(pid)
        have = {name: info["key"] for name, info in (await db["cases"].index_information()).items()}
        for index_name, keys in have.items():
            if index_name != "_id_" and keys not in indexes:
                await db["cases"].drop_index(index_name)  # the next set drops, never rebuilds
        for keys in indexes:
            if keys not in have.values():
                await db["cases"].create_index(keys)
        print(
            f"{name}: {len(indexes)} indexes built in {time.monotonic() - started:,.0f} s "
            f"({cpu(pid) - before:,.0f} s server CPU); load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        results[name] = await timed(db, pid, indexes, args.repeat)
        costs[name] = await writes(db, pid, args.cases, args.writes, name)
        print(f"{name}: insert {costs[name][0]:.3f} ms/case, update {costs[name][1]:.3f} ms/case")
    head = " | ".join(f"{n} ms wall / ms CPU / rows" for n in args.sets)
    print(f"\n| query | {head} |")
    print("|---|" + "---|" * len(args.sets))
    for name, _, _ in QUERIES:
        cells = []
        for s in args.sets:
            r = results[s][name]
            cells.append(
                f"{r.wall_ms:,.0f} / {r.cpu_ms:,.0f} / {r.rows}{' ' + r.error if r.error else ''}"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")
    for s in args.sets:
        ins, cas = costs[s]
        print(f"{s}: {len(sets[s])} indexes; insert {ins:.3f} ms/case, update {cas:.3f} ms/case")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--sets", nargs="*", default=["full", "lean", "least"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args(argv)
    with scratch_server(PORT, "case-list-") as (_client, pid):

        async def go() -> None:
            client: AsyncMongoClient[Any] = AsyncMongoClient(
                f"mongodb://127.0.0.1:{PORT}/", tz_aware=True
            )
            try:
                await run(args, client["bench"], pid)
            finally:
                await client.close()

        asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
