"""The store `bench/case_list_indexes.py` measures: SLA case documents with the list fields a
two-year-old store has (most cases settled, a tenth open with a next due time, a third of those
overdue; 200 handlers, 30 skewed categories, 17 skewed channels, 1 % awaiting review)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sla_backlog import classified
from sla_scheduler import starter

from contracts import Channel, Severity
from sla.adapters.case_documents import case_document

NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = timedelta(days=730)  # receipts over the last two years
BATCH = 1_000
TEMPLATES = 64
STATES = (
    ("closed", 70), ("resolved", 8), ("callback_done", 3), ("duplicate", 3), ("enquiry", 3),
    ("routed", 2), ("withdrawn", 1), ("rejected", 1),
    ("classified", 1), ("acknowledged", 2), ("dispatched", 2), ("in_progress", 2),
    ("awaiting_customer", 1), ("reopened", 1),
)  # fmt: skip
"""State shares (percent) of a store two years old: a tenth open (with a next due time)."""
OPEN = frozenset(
    {"classified", "acknowledged", "dispatched", "in_progress", "awaiting_customer", "reopened"}
)
SEVERITIES = (("P1", 5), ("P2", 15), ("P3", 40), ("P4", 40))
CHANNELS = tuple(
    (c.value, {"hotline": 40, "app": 15, "web": 15, "wechat": 10, "sms": 5, "email": 5}.get(c, 1))
    for c in Channel
)
CATEGORIES = tuple((f"cat/{i:02d}", max(1, 300 // (i + 1))) for i in range(30))
HANDLERS = 200


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def templates(db: Any) -> list[dict[str, Any]]:
    """Case documents the SLA stores for classified complaints of each severity."""
    start = starter(db)  # builds documents only: nothing is written through it
    severities = [Severity.P1, Severity.P2, Severity.P3, Severity.P4]
    out = []
    for i in range(TEMPLATES):
        received = NOW - timedelta(hours=i * 7)
        record = start.case_of(classified(i, received, severities[i % 4], "TP"))
        out.append(case_document(record))
    return out


def case_at(n: int, count: int, rng: random.Random, base: list[dict[str, Any]]) -> dict[str, Any]:
    """Case `n` of `count`: a template's document with its own id, receipt and list fields."""
    doc = dict(rng.choice(base))
    doc["_id"] = f"CP-{n:08d}"
    doc["received_at"] = NOW - SPAN + SPAN * (n / count)
    state = _pick(rng, STATES)
    doc["state"], doc["severity"] = state, _pick(rng, SEVERITIES)
    doc["channel"], doc["category"] = _pick(rng, CHANNELS), _pick(rng, CATEGORIES)
    if rng.random() < 0.9:
        doc["assignee"] = f"handler-{rng.randrange(HANDLERS):03d}"
    if rng.random() < 0.01:
        doc["review"] = "needed"
    # An open case's next due: a third overdue (up to 30 days), the rest within 10 days.
    if state in OPEN:
        ahead = rng.uniform(-30, 0) if rng.random() < 1 / 3 else rng.uniform(0, 10)
        doc["next_due"] = NOW + timedelta(days=ahead)
    else:
        doc["next_due"] = None
    return doc


async def seed(db: Any, count: int) -> float:
    """Insert `count` cases (no list index yet), one batch in flight while the next is built."""
    base, rng, started = templates(db), random.Random(7), time.monotonic()
    inserting: asyncio.Task[Any] | None = None
    for first in range(0, count, BATCH):
        docs = [case_at(n, count, rng, base) for n in range(first, min(first + BATCH, count))]
        if inserting is not None:
            await inserting
        inserting = asyncio.create_task(db["cases"].insert_many(docs, ordered=False))
        if (first + BATCH) % 100_000 == 0:
            print(f"  seeded {first + BATCH:,} in {time.monotonic() - started:,.0f} s", flush=True)
    if inserting is not None:
        await inserting
    return time.monotonic() - started
