"""The backlog of `make bench-sla`: open cases with the clock sheet a real open case starts with.

Each case is what StartClocks stores for a classified complaint (`StartClocks.case_of`: the
pack's clocks at receipt — acknowledge, dispatch, resolution, outer limit and, for P1/P2, the
preliminary reply and the progress update — its severity upgrades, and the `clocks-started` log
entry with the `set` event), written with the store's own document codec, plus its due-index
entry (one per case: the sheet's earliest pending threshold, ADR 0006). Severities follow
`MIX`; receipt times are spread over the next 30 days, so no backlog threshold falls due while
the scheduler is measured and every round must step over them. A million open clocks take
≈ 230,000 cases (4.4 running clocks each), not a million.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Channel, ClassifiedComplaint, Kind, Severity
from sla.adapters.case_documents import case_document
from sla.adapters.slots import SlotIndex, encode, slot_key
from sla.casework.start import StartClocks
from sla.clocks.due import due_entry
from sla.ports import CaseRecord

INSERT_BATCH = 500
PROGRESS_EVERY = 20_000  # cases
MIX = ((Severity.P1, 5), (Severity.P2, 15), (Severity.P3, 40), (Severity.P4, 40))
"""Severity shares (percent) of the backlog's cases."""
HORIZON = timedelta(days=30)
META = "bench_backlog"  # what a kept database holds: {"clocks": n, "cases": n}


@dataclass(frozen=True)
class Backlog:
    """What was loaded (or found): open clocks, the cases holding them, and the load's seconds."""

    clocks: int
    cases: int
    seconds: float = 0.0


def open_clocks(record: CaseRecord) -> int:
    """Running clocks of a case (severity upgrades are not clocks)."""
    return sum(1 for e in record.clocks if e.running and e.clock is not None)


def classified(i: int, received: datetime, severity: Severity, prefix: str) -> ClassifiedComplaint:
    """A classified complaint as the classifier hands it to the SLA."""
    return ClassifiedComplaint(
        complaint_id=f"CP20261124-{prefix}{i:08d}",
        channel=Channel.HOTLINE,
        received_at=received,
        kind=Kind.COMPLAINT,
        category="billing/overcharge",
        severity=severity,
        confidence=0.9,
        model_version="bench",
        policy="telecom",
        policy_version="bench",
    )


async def found(db: Any) -> Backlog | None:
    """The backlog a kept database already holds."""
    meta = await db[META].find_one({"_id": META})
    return Backlog(meta["clocks"], meta["cases"]) if meta else None


async def load(db: Any, starter: StartClocks, *, clocks: int, width: int) -> Backlog:
    """Insert cases until they hold `clocks` open clocks, with their slot entries."""
    index = SlotIndex(db, width=width)
    now = datetime.now(UTC)
    start = time.perf_counter()
    rng = random.Random(7)
    severities = [s for s, share in MIX for _ in range(share)]
    slots: dict[int, list[str]] = {}
    loaded = cases = 0
    inserting: asyncio.Task[Any] | None = None
    while loaded < clocks:
        batch: list[dict[str, Any]] = []
        while len(batch) < INSERT_BATCH and loaded < clocks:
            received = now + timedelta(hours=1) + rng.uniform(0, 1) * HORIZON
            record = starter.case_of(classified(cases, received, rng.choice(severities), "BK"))
            entry = due_entry(record.complaint_id, record.clocks)
            assert entry is not None  # noqa: S101 - an open case always has a next threshold
            slots.setdefault(index.slot_of(entry[1]), []).append(encode(entry))
            batch.append(case_document(record))
            loaded += open_clocks(record)
            cases += 1
        # One batch in flight while the next is built: the server's insert and this process's
        # case building (as costly, in CPU) overlap instead of taking turns.
        if inserting is not None:
            await inserting
        inserting = asyncio.create_task(db["cases"].insert_many(batch, ordered=False))
        if cases % PROGRESS_EVERY < len(batch) or loaded >= clocks:
            progress(loaded, clocks, cases, time.perf_counter() - start)
    if inserting is not None:
        await inserting
    docs = [{"_id": slot_key(slot), "e": values} for slot, values in sorted(slots.items())]
    for first in range(0, len(docs), INSERT_BATCH):
        await db["deadline_slots"].insert_many(docs[first : first + INSERT_BATCH], ordered=False)
    watermark = {"$setOnInsert": {"slot": index.slot_of(now)}}
    await db["scheduler_state"].update_one({"_id": "watermark"}, watermark, upsert=True)
    await db[META].insert_one({"_id": META, "clocks": loaded, "cases": cases})
    seconds = time.perf_counter() - start
    print(f"  {len(docs):,} slots; loaded in {seconds:,.0f} s", file=sys.stderr)
    return Backlog(loaded, cases, seconds)


def progress(loaded: int, clocks: int, cases: int, seconds: float) -> None:
    """One progress line: clocks and cases so far, rates, and the time left at this rate."""
    rate = loaded / seconds if seconds else 0.0
    left = max(0, clocks - loaded) / rate if rate else float("nan")
    print(
        f"  backlog {loaded:,}/{clocks:,} open clocks in {cases:,} cases "
        f"({rate:,.0f} clocks/s, {cases / seconds:,.0f} cases/s; ~{left:,.0f} s left)",
        file=sys.stderr,
    )
