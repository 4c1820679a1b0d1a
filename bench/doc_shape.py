"""What the local FerretDB charges to decode a case, by the SHAPE of its clock sheet and log.

FerretDB (SQLite backend) decodes every row it reads, whole, before it filters or projects
(bench/RESULTS.md, session 7). This starts a private FerretDB of the local build on an empty
directory, and for each shape stores the same cases — the same facts, a clock sheet and a change
log of the size the pipeline stores (~3.4 KB and ~1.3 KB as nested documents) — then runs what the
SLA runs on them and prints the server's CPU (from /proc, so robust on a shared machine):

- `insert`: batched inserts of the cases;
- `read`: `_id $in` reads of 100 cases (the SLA's batch read);
- `cas`: single compare-and-sets on (`_id`, `version`): `$set` the sheet, `$push` a log entry;
- `bulk`: the same compare-and-sets again as unordered `bulk_write`s of `WRITE_CHUNK` statements
  (the SLA's `commit_many`), ms per statement;
- `scan`: `find {}` with a projection (the census), every case.

Shapes: `nested` (as stored until ADR 0023), `short` (the same documents with 1–2 letter keys),
`strings` (each entry one JSON
string), `string` (the whole sheet one JSON string; the log an array of strings), `binary` (as
`string`, but BSON binary).

    python bench/doc_shape.py --cases 1000   # in your network namespace (it opens a port)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import Binary, encode
from pymongo import MongoClient, UpdateOne

from servicekit.mongo import WRITE_CHUNK
from sla.adapters.case_list import LIST_INDEXES
from sla.adapters.packed import pack_clock, pack_log

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch_ferretdb import Doc, measure, scratch_server

PORT = 27091
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def clock_entry(i: int) -> Doc:
    """One clock entry as `sla.clocks.codec.clock_doc` stores it (same keys, typical values)."""
    due = T0 + timedelta(hours=4 * (i + 1))
    thresholds = [
        {"percent": p, "at": T0 + timedelta(minutes=p * (i + 1)), "audiences": ["owner", "lead"]}
        for p in (50, 75, 100)
    ]
    return {
        "key": f"{['acknowledge', 'first_contact', 'dispatch', 'resolution'][i % 4]}:{i // 4 + 1}",
        "clock": ["acknowledge", "first_contact", "dispatch", "resolution"][i % 4],
        "occurrence": i // 4 + 1,
        "round": 0,
        "severity": "P3",
        "status": "running" if i % 3 else "met",
        "started_at": T0,
        "due_at": due,
        "thresholds": thresholds,
        "passed": [50] if i % 2 else [],
        "unit": "h",
        "repeat": False,
        "upgrade_to": None,
        "stopped_at": None if i % 3 else T0 + timedelta(hours=1),
        "pause_base": {"due_at": due, "thresholds": thresholds} if i == 5 else None,
        "paused_seconds": 0.0,
        "extended_hours": 0.0,
        "policy_version": "telecom-2026.3",
        "calendar_version": "uk-2026.1",
        "lease": {"owner": "sla-a", "until": due} if i % 4 == 1 else None,
        "folded": [0, 0, 0],
    }


def log_entry(i: int) -> Doc:
    """One change-log entry with one published event (the shape `log_doc` stores)."""
    event = {
        "type": "sla.threshold",
        "id": f"evt-{i:08d}-0000-4000-8000-000000000000",
        "subject": "c-000001",
        "cause": f"fire:{i}",
        "occurred_at": (T0 + timedelta(minutes=i)).isoformat(),
        "clock": "dispatch",
        "occurrence": 1,
        "severity": "P3",
        "threshold": 75,
        "due_at": (T0 + timedelta(hours=8)).isoformat(),
        "audiences": ["owner", "lead"],
        "policy_version": "telecom-2026.3",
    }
    return {"id": f"fire:{i}:dispatch:1", "at": T0 + timedelta(minutes=i), "events": [event]}


def _short(value: Any) -> Any:
    """The same value with every key cut to its first letters (unique within its document)."""
    if isinstance(value, dict):
        out: Doc = {}
        for key, item in value.items():
            short = key[:1]
            while short in out:
                short = key[: len(short) + 1]
            out[short] = _short(item)
        return out
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


def _positional(value: Any) -> Any:
    """The same value with every sub-document turned into the list of its values."""
    if isinstance(value, dict):
        return [_positional(v) for v in value.values()]
    if isinstance(value, list):
        return [_positional(v) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(_positional(value), default=lambda d: int(d.timestamp() * 1000))


SHAPES: dict[str, tuple[Callable[[list[Doc]], Any], Callable[[Doc], Any]]] = {
    "nested": (lambda sheet: sheet, lambda entry: entry),
    "short": (_short, _short),
    "strings": (lambda sheet: [_json(e) for e in sheet], _json),
    "string": (_json, _json),
    "binary": (lambda sheet: Binary(_json(sheet).encode()), _json),
    "split": (lambda sheet: [pack_clock(e) for e in sheet], pack_log),
}


def case(n: int, shape: str, sheet: list[Doc], log: list[Doc]) -> Doc:
    """One case document: plain top-level facts, the sheet and log in `shape`."""
    pack_sheet, pack_entry = SHAPES[shape]
    return {
        "_id": f"c-{n:06d}",
        "received_at": T0 + timedelta(seconds=n),
        "state": "open",
        "severity": "P3",
        "category": "billing",
        "channel": "web",
        "assignee": None,
        "version": 1,
        "running_due": sorted(e["due_at"] for e in sheet if e["status"] == "running"),
        "clocks": pack_sheet(sheet),
        "log": [pack_entry(e) for e in log],
        "unpublished": [],
    }


def run_shape(
    client: MongoClient[Doc], pid: int, shape: str, cases: int, *, indexes: bool = False
) -> dict[str, float]:
    """The five workloads on `cases` cases stored in `shape`; ms of server CPU per operation.
    With `indexes`, the collection has the SLA's case-list indexes, as `cases` has."""
    sheet = [clock_entry(i) for i in range(8)]
    log = [log_entry(i) for i in range(4)]
    coll = client["shapes"][shape]
    coll.drop()
    for keys in LIST_INDEXES if indexes else ():
        coll.create_index(keys)
    docs = [case(n, shape, sheet, log) for n in range(cases)]
    out = {"bytes": float(len(encode(docs[0])))}
    out["sheet bytes"] = float(len(encode({"c": docs[0]["clocks"]})))

    def insert() -> int:
        for start in range(0, cases, 100):
            coll.insert_many(docs[start : start + 100])
        return cases

    def read() -> int:
        ids = [d["_id"] for d in docs]
        for start in range(0, cases, 100):
            got = list(coll.find({"_id": {"$in": ids[start : start + 100]}}))
            if len(got) != len(ids[start : start + 100]):
                raise SystemExit(f"{shape}: a read returned {len(got)} cases")
        return cases

    def cas() -> int:
        pack_sheet, pack_entry = SHAPES[shape]
        n = min(cases, 300)
        for d in docs[:n]:
            update = {
                "$set": {"clocks": pack_sheet(sheet), "state": "acknowledged"},
                "$inc": {"version": 1},
                "$push": {"log": pack_entry(log_entry(9))},
            }
            if coll.update_one({"_id": d["_id"], "version": 1}, update).modified_count != 1:
                raise SystemExit(f"{shape}: a compare-and-set missed")
        return n

    def bulk() -> int:
        pack_sheet, pack_entry = SHAPES[shape]
        n = min(cases, 300)
        update = {
            "$set": {"clocks": pack_sheet(sheet), "state": "responded"},
            "$inc": {"version": 1},
            "$push": {"log": pack_entry(log_entry(10))},
        }
        for start in range(0, n, WRITE_CHUNK):
            chunk = docs[start : min(n, start + WRITE_CHUNK)]
            ops = [UpdateOne({"_id": d["_id"], "version": 2}, update) for d in chunk]
            if coll.bulk_write(ops, ordered=False).modified_count != len(chunk):
                raise SystemExit(f"{shape}: a bulk compare-and-set missed")
        return n

    def scan() -> int:
        return len(list(coll.find({}, {"clocks": 1, "received_at": 1})))

    workloads = (("insert", insert), ("read", read), ("cas", cas), ("bulk", bulk), ("scan", scan))
    for name, work in workloads:
        done, seconds = measure(pid, work)
        out[name] = seconds * 1000 / done
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES))
    parser.add_argument(
        "--indexes", action="store_true", help="with the SLA's case-list indexes, as on `cases`"
    )
    args = parser.parse_args(argv)
    with scratch_server(PORT, "doc-shape-") as (client, pid):
        with_ = f", with the {len(LIST_INDEXES)} case-list indexes" if args.indexes else ""
        print(f"load average {os.getloadavg()[0]:.2f}; {args.cases} cases per shape{with_}")
        print(
            "shape    | doc B | sheet B | insert ms/doc | read ms/doc | cas ms/op | bulk ms/op"
            " | scan ms/doc"
        )
        for shape in args.shapes:
            r = run_shape(client, pid, shape, args.cases, indexes=args.indexes)
            print(
                f"{shape:8} | {r['bytes']:5.0f} | {r['sheet bytes']:7.0f} | {r['insert']:13.3f} |"
                f" {r['read']:11.3f} | {r['cas']:9.3f} | {r['bulk']:10.3f} | {r['scan']:11.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
