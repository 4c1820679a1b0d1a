"""Demo and test workloads: raw channel messages built from labelled example complaints."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer

from contracts import Topic
from servicekit.clock import Clock
from servicekit.kafka import tool_client_kwargs

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "data" / "fixtures" / "complaints.dev.jsonl"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RawMessage:
    """One message as a channel would publish it."""

    key: bytes
    value: bytes
    external_id: str


def examples(path: Path = FIXTURES) -> list[dict[str, Any]]:
    """The labelled example complaints."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


MOBILE_SEGMENTS = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "180",
    "181",
    "186",
    "187",
    "188",
)
"""Allocated mainland mobile segments. Any `1[3-9]x` is not one: `179xx` are the carriers'
long-distance access codes (17951, 17910…), so `17953005028` parses as a code and a short number,
intake finds no possible phone and the acknowledgement fails for want of a contact — one message
in ~17,000 did, the fault suite's and the bench's rare unexplained 'not acknowledged'."""


def synthetic_phone(run_id: str, index: int) -> str:
    """A distinct, well-formed mainland mobile number per message of a run (not a real person)."""
    digest = int(hashlib.sha256(f"{run_id}:{index}".encode()).hexdigest(), 16)
    segment = MOBILE_SEGMENTS[digest % len(MOBILE_SEGMENTS)]
    return f"{segment}{digest // len(MOBILE_SEGMENTS) % 10**8:08d}"


def message(run_id: str, index: int, received: datetime, rows: list[dict[str, Any]]) -> RawMessage:
    """The `index`-th generic-format message of a run (cycling through `rows`), one complainant."""
    row = rows[index % len(rows)]
    external_id = f"{run_id}-{index:06d}"
    body = {
        "channel": row["channel"],
        "external_id": external_id,
        "received_at": received.astimezone(SHANGHAI).isoformat(),
        "text": row["text"],
        "complainant": {
            "phone": synthetic_phone(run_id, index),
            "tier": row.get("customer_tier", "standard"),
            "customer_id": f"demo-{run_id}-{index}",
        },
    }
    return RawMessage(
        key=f"{row['channel']}:{external_id}".encode(),
        value=json.dumps(body, ensure_ascii=False).encode(),
        external_id=external_id,
    )


def build(
    *, run_id: str, count: int, start: datetime, spacing: timedelta = timedelta(seconds=1)
) -> Iterator[RawMessage]:
    """`count` generic-format messages cycling through the examples, one complainant each."""
    rows = examples()
    for index in range(count):
        yield message(run_id, index, start + spacing * index, rows)


async def publish(messages: list[RawMessage], *, bootstrap: str) -> int:
    """Send raw messages to the raw topic; returns how many the broker acknowledged."""
    producer = AIOKafkaProducer(
        **tool_client_kwargs(bootstrap), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        futures = [await producer.send(Topic.RAW.value, m.value, key=m.key) for m in messages]
        for future in futures:
            await future
    finally:
        await producer.stop()
    return len(messages)


async def publish_paced(
    *,
    run_id: str,
    count: int,
    clock: Clock,
    over_s: float,
    bootstrap: str,
    hold: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Send `count` messages evenly over `over_s` real seconds, each received at the business time
    it is sent (as complaints arrive through a morning), so the pipeline is never handed a backlog.
    `hold(sent)` may delay the next one; the rest of the schedule moves with it.
    """
    rows = examples()
    producer = AIOKafkaProducer(
        **tool_client_kwargs(bootstrap), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        started = time.monotonic()
        futures = []
        for index in range(count):
            await asyncio.sleep(max(0.0, started + over_s * index / count - time.monotonic()))
            if hold is not None:
                before = time.monotonic()
                await hold(index)
                started += time.monotonic() - before
            m = message(run_id, index, clock.now(), rows)
            futures.append(await producer.send(Topic.RAW.value, m.value, key=m.key))
        for future in futures:
            await future
    finally:
        await producer.stop()
    return count
