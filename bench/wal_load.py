"""Sustained writes and overlapping reads on the local FerretDB, printing its write-ahead log size.

Shows the bound the local build keeps on SQLite's WAL (docs/adr/0004, WAL addendum): writer threads
insert batches and update single documents by `_id` while reader threads keep reading, so some
reader is nearly always inside a query, as under the pipeline's load. Every `--every` seconds it
prints counts and sizes (not timings): operations so far, documents, the database file and its WAL.

    python bench/wal_load.py --seconds 180   # in the stack's namespace; starts the stack if needed

Ends with one line, and exits 1 if the WAL ever passed `--limit-mib`:

    wal: max X MiB, final Y MiB, limit L MiB; writes W, reads R, documents D
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack  # noqa: E402

DOC_BYTES = 1024
BATCH = 50
MIB = 2**20


class Counts:
    """Operations done by all threads (a lock: the threads add concurrently)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writes = 0
        self.reads = 0
        self.inserted = 0

    def add(self, *, writes: int = 0, reads: int = 0, inserted: int = 0) -> None:
        with self.lock:
            self.writes += writes
            self.reads += reads
            self.inserted += inserted


def writer(coll: Any, counts: Counts, stop: threading.Event, name: str) -> None:
    """Batches of new documents, then single-document updates by `_id` of some of them."""
    body = "x" * DOC_BYTES
    n = 0
    while not stop.is_set():
        ids = [f"{name}-{n + i}" for i in range(BATCH)]
        n += BATCH
        coll.insert_many([{"_id": i, "key": f"k{hash(i) % 997}", "body": body} for i in ids])
        for i in ids[::5]:
            coll.update_one({"_id": i}, {"$set": {"status": "seen"}, "$push": {"log": "u"}})
        counts.add(writes=1 + len(ids[::5]), inserted=len(ids))


def reader(coll: Any, counts: Counts, stop: threading.Event) -> None:
    """Look-ups by indexed key and by `_id`, each drained in one reply (no cursor left open)."""
    while not stop.is_set():
        keys = [f"k{secrets.randbelow(997)}" for _ in range(5)]
        list(coll.find({"key": {"$in": keys}}, {"body": 0}, batch_size=10_000))
        coll.find_one({"_id": f"w0-{secrets.randbelow(max(1, counts.inserted // 2) or 1)}"})
        counts.add(reads=2)


def sizes(database: str) -> tuple[int, int]:
    """(database file, write-ahead log) bytes of `database`."""
    data = stack.STATE / "ferretdb-data"
    db_file = data / f"{database}.sqlite"
    return (db_file.stat().st_size if db_file.exists() else 0), stack.wal_sizes().get(database, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between lines")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--limit-mib", type=float, default=64.0, help="largest WAL allowed")
    args = parser.parse_args()
    stack.up()
    database = f"complaints_walload_{secrets.token_hex(3)}"
    client: MongoClient[dict[str, Any]] = MongoClient(f"mongodb://{stack.HOST}:{stack.PORTS.mongo}")
    coll = client[database]["docs"]
    coll.create_index("key")
    counts, stop = Counts(), threading.Event()
    threads = [
        *(
            threading.Thread(target=writer, args=(coll, counts, stop, f"w{i}"), daemon=True)
            for i in range(args.writers)
        ),
        *(
            threading.Thread(target=reader, args=(coll, counts, stop), daemon=True)
            for _ in range(args.readers)
        ),
    ]
    largest = 0
    print(f"{'s':>5} {'writes':>8} {'reads':>8} {'documents':>10} {'db MiB':>8} {'WAL MiB':>8}")
    try:
        for thread in threads:
            thread.start()
        began = time.monotonic()
        while (elapsed := time.monotonic() - began) < args.seconds:
            time.sleep(min(args.every, max(0.0, args.seconds - elapsed)))
            db_bytes, wal_bytes = sizes(database)
            largest = max(largest, wal_bytes)
            print(
                f"{time.monotonic() - began:5.0f} {counts.writes:8,} {counts.reads:8,} "
                f"{counts.inserted:10,} {db_bytes / MIB:8.1f} {wal_bytes / MIB:8.1f}",
                flush=True,
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        final = sizes(database)[1]
        client.drop_database(database)
        client.close()
    print(
        f"wal: max {largest / MIB:.1f} MiB, final {final / MIB:.1f} MiB, "
        f"limit {args.limit_mib:.0f} MiB; writes {counts.writes:,}, reads {counts.reads:,}, "
        f"documents {counts.inserted:,}"
    )
    return 0 if largest <= args.limit_mib * MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
