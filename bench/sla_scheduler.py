"""Scheduler firing lag with a million open deadlines in the real local FerretDB.

Loads `--open` deadlines that fall due over the next 30 days (the backlog every round must not
scan), then, for `--seconds`, adds `--rate` deadlines per second due 2–6 s ahead (warnings at 50 and
80 %, breach at 100 %) and runs the real
`Scheduler` over `MongoDeadlineStore` (slot index, leases) in this process. Lag = fired − due, per
breach. Prints progress, the load and firing figures, and ends with one line:

    sla-scheduler: N open, F fired, lag p50 A ms, p99 B ms, max C ms

The goal (issue 5) is p99 ≤ 1 s. Needs the local stack (`make stack-up`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from contracts import Audience, ClockName, Event
from servicekit.clock import SystemClock
from servicekit.mongo import Document
from sla.adapters.deadline_documents import ms, to_document
from sla.adapters.mongo_deadlines import MongoDeadlineStore
from sla.adapters.slots import SlotIndex, encode, slot_key
from sla.metrics import SlaMetrics
from sla.ports import StoredDeadline, Threshold
from sla.scheduler import Scheduler

INSERT_BATCH = 1_000


def make(i: int, due: datetime, started: datetime, prefix: str) -> StoredDeadline:
    """An acknowledge-like deadline with 50 / 80 / 100 % thresholds."""
    span = due - started
    return StoredDeadline(
        deadline_id=f"CP20261124-{prefix}{i:08d}:acknowledge:1",
        complaint_id=f"CP20261124-{prefix}{i:08d}",
        clock=ClockName.ACKNOWLEDGE,
        occurrence=1,
        severity="P3",
        started_at=started,
        due_at=due,
        thresholds=tuple(
            Threshold(p, started + span * p / 100, (Audience.HANDLER,)) for p in (50, 80, 100)
        ),
        policy_version="bench",
        calendar_version="bench",
    )


async def load_backlog(db: object, *, count: int, width: int) -> float:
    """Bulk-load `count` deadlines due over 30 days, with their slot entries; returns seconds."""
    deadlines = db["deadlines"]  # type: ignore[index]
    slots = db["deadline_slots"]  # type: ignore[index]
    index = SlotIndex(db, width=width)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    start = time.perf_counter()
    entries: dict[int, list[str]] = {}
    rng = random.Random(7)
    for first in range(0, count, INSERT_BATCH):
        batch = []
        for i in range(first, min(first + INSERT_BATCH, count)):
            due = now + timedelta(hours=1) + timedelta(seconds=rng.uniform(0, 30 * 86_400))
            d = make(i, due, now, "BK")
            batch.append(to_document(d))
            nxt = d.next_threshold()
            assert nxt is not None  # noqa: S101
            entry = (d.deadline_id, ms(nxt.at), nxt.percent)
            entries.setdefault(index.slot_of(nxt.at), []).append(encode(entry))
        await deadlines.insert_many(batch, ordered=False)
        done = first + len(batch)
        if done % 50_000 == 0 or done == count:
            rate = done / (time.perf_counter() - start)
            print(f"  backlog {done:,}/{count:,} deadlines ({rate:,.0f}/s)", file=sys.stderr)
    docs = [{"_id": slot_key(slot), "e": values} for slot, values in sorted(entries.items())]
    for first in range(0, len(docs), INSERT_BATCH):
        await slots.insert_many(docs[first : first + INSERT_BATCH], ordered=False)
    watermark = {"$setOnInsert": {"slot": index.slot_of(now)}}
    await db["scheduler_state"].update_one({"_id": "watermark"}, watermark, upsert=True)  # type: ignore[index]
    print(f"  {len(docs):,} slots", file=sys.stderr)
    return time.perf_counter() - start


async def feed(
    store: MongoDeadlineStore, *, run: str, rate: int, seconds: float, wake: object
) -> int:
    """Add `rate` deadlines per second, each falling due 2–6 s ahead."""
    rng = random.Random(11)
    added = 0
    tick = time.perf_counter()
    end = tick + seconds
    while tick < end:
        now = datetime.now(UTC)
        batch = []
        for _ in range(rate // 10):
            due = now + timedelta(seconds=rng.uniform(2, 6))
            d = make(added, due, now, run)
            batch.append(d)
            added += 1
        await store.add(batch)
        wake()  # type: ignore[operator]
        tick += 0.1  # a fixed schedule: a slow add does not lower the offered rate
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
    return added


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="backlog of open deadlines")
    parser.add_argument(
        "--rate", type=int, default=50, help="new deadlines per second (3 thresholds each)"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="measured period")
    parser.add_argument("--mongo", default="mongodb://127.0.0.1:27017")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database", help="reuse this database's backlog if it has one (implies --keep)"
    )
    args = parser.parse_args()

    client: AsyncMongoClient[Document] = AsyncMongoClient(
        args.mongo, tz_aware=True, retryWrites=False
    )
    name = args.database or f"bench_sla_{uuid.uuid4().hex[:8]}"
    db = client[name]
    clock = SystemClock()
    store = MongoDeadlineStore(db, clock=clock, slot_width=10)
    have = await db["deadlines"].estimated_document_count()
    if have >= args.open:
        print(f"sla-scheduler: reusing {have:,} deadlines in {name}", file=sys.stderr)
    else:
        print(f"sla-scheduler: loading {args.open:,} open deadlines into {name}…", file=sys.stderr)
        load_s = await load_backlog(db, count=args.open, width=10)
        print(f"  loaded in {load_s:,.0f} s", file=sys.stderr)

    lags: list[float] = []
    run = "".join(random.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))  # this run's ids

    async def publish(events: Sequence[Event]) -> None:
        fired_at = datetime.now(UTC)
        for event in events:
            data = event.data  # type: ignore[attr-defined]
            if data.threshold == 100 and data.complaint_id.startswith(f"CP20261124-{run}"):
                lags.append((fired_at - data.due_at).total_seconds())

    scheduler = Scheduler(
        store=store,
        publish=publish,
        clock=clock,
        metrics=SlaMetrics(CollectorRegistry()),
        owner="bench",
    )
    task = asyncio.create_task(scheduler.run_forever())
    print(f"  feeding {args.rate}/s due deadlines for {args.seconds:.0f} s…", file=sys.stderr)
    added = await feed(store, run=run, rate=args.rate, seconds=args.seconds, wake=scheduler.wake)
    await asyncio.sleep(6.0)  # the last ones fall due
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if not (args.keep or args.database):
        await client.drop_database(name)
    await client.close()
    p50, p99 = percentile(lags, 0.5) * 1000, percentile(lags, 0.99) * 1000
    worst = max(lags, default=float("nan")) * 1000
    print(f"  added {added:,} due deadlines, {len(lags):,} breaches fired", file=sys.stderr)
    print(
        f"sla-scheduler: {args.open:,} open, {len(lags):,} fired, "
        f"lag p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, max {worst:,.0f} ms"
    )
    return 0 if lags and p99 <= 1000 and len(lags) == added else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
