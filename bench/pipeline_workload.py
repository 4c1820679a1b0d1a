"""What the whole-pipeline bench feeds in: ordinary complaints, an incident storm, the relays.

The fixture's ~40 category paths cycled at hundreds of complaints a second put far more than the
telecom pack's 20 complaints (or 3 important customers) of one path into every 30 minutes, so its
wide-area rule (a category path anywhere) opens mass incidents within seconds. A carrier that takes
complaints at that rate calibrates the rule to its volume; the ordinary bench does the same: the
services load a copy of the policy packs whose mass-incident thresholds are out of the bench's
reach, so detection still reads its history for every complaint but never fires. The storm mode
(`--storm`) keeps the shipped thresholds, so the incident fan-out is measured on its own.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo.asynchronous.collection import AsyncCollection

ROOT = Path(__file__).resolve().parents[1]
RELAY_IN, RELAY_OUT = "bench.relay.in", "bench.relay.out"
_MASS = re.compile(r"(mass_incident:\s*\{[^}]*?)min_complaints:\s*\d+,\s*min_important:\s*\d+")
UNREACHABLE = 10_000_000
"""Mass-incident thresholds of the ordinary bench: more complaints than any bench run sends."""


def ordinary_policies(pack: str = "telecom") -> Path:
    """A temporary copy of `policies/` whose `pack` never reaches a mass-incident threshold."""
    target = Path(tempfile.mkdtemp(prefix="bench-policies-")) / "policies"
    shutil.copytree(ROOT / "policies", target)
    rules = target / pack / "classifier.yaml"
    text, found = _MASS.subn(
        rf"\1min_complaints: {UNREACHABLE}, min_important: {UNREACHABLE}",
        rules.read_text(encoding="utf-8"),
    )
    if found != 1:
        raise SystemExit(f"bench: no mass_incident thresholds found in {rules}; update the bench")
    rules.write_text(text, encoding="utf-8")
    return target


async def relay(
    bootstrap: str, count: int, payload: bytes, store: AsyncCollection[dict[str, Any]] | None = None
) -> float:
    """Messages per second through a consume → (store →) produce relay.

    Without `store`, the bare relay: what the broker and its client alone can do. With it, the
    durable relay: each batch is first inserted into the store (one unordered `insert_many` of
    the decoded messages), then produced, then committed — the least any store-then-publish stage
    pays on this server.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(t, 6, 1) for t in (RELAY_IN, RELAY_OUT) if t not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()
    group = f"bench-relay-{secrets.token_hex(3)}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    consumer = AIOKafkaConsumer(
        RELAY_IN,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():  # noqa: ASYNC110 - polling the client's own state
            await asyncio.sleep(0.1)
        await consumer.seek_to_end()
        for i in range(count):
            await producer.send(RELAY_IN, payload, key=str(i).encode())
        await producer.flush()
        moved = 0
        started = time.perf_counter()
        while moved < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            if store is not None and batch:
                await store.insert_many(
                    [
                        {"_id": f"{group}-{r.partition}-{r.offset}", **json.loads(r.value or b"{}")}
                        for records in batch.values()
                        for r in records
                    ],
                    ordered=False,
                )
            for records in batch.values():
                for record in records:
                    await producer.send(RELAY_OUT, record.value, key=record.key)
                moved += len(records)
            await producer.flush()
            await consumer.commit()
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()
