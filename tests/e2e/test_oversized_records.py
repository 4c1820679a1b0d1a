"""Records near the broker's 1 MiB limit, on the real Kafka and FerretDB: dead-lettered once each.

A ~900 KB raw message and a ~930 KB case action are each rejected, their dead-letter records fit
the broker (digest, length and coordinates instead of the bytes), the partition they sat on keeps
flowing (a later good message on it is processed) and no batch is redelivered: each service's
finished-message and dead-letter counters grow by exactly what was sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.pipeline import SIGNING_KEYS, Pipeline, StackConfig
from complaints_cli.topics import read_all
from contracts import CaseAction, CaseActionTaken, LifecycleAction, MessageDeadLettered, Topic
from servicekit.kafka import encode
from servicekit.signing import WRITER, Signer, SigningSettings
from tests._builders.stack import start_local_stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]
Json = dict[str, Any]


async def until(check: Callable[[], Awaitable[Any]], what: str, limit_s: float = 90) -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def sample(port: int, name: str, **labels: str) -> float:
    """One series of a service's /metrics (0 when absent)."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


async def produce(bootstrap: str, topic: Topic, records: list[tuple[bytes, bytes]]) -> list[Any]:
    """Send (key, value) records to partition 0 of `topic`, in order; their metadata."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=1_048_000, linger_ms=0
    )
    await producer.start()
    try:
        # Owned topics' consumers act only on their owner's signed records (ADR 0010): the
        # actions here stand for the case API's, so they carry the SLA's (dev) signature.
        owner = WRITER.get(topic)
        signer = Signer.of(owner, SigningSettings(keys_file=SIGNING_KEYS)) if owner else None
        sent = []
        for key, value in records:
            signed = signer.headers(topic.value, key, value) if signer else {}
            headers = [(name, text.encode()) for name, text in signed.items()]
            sent.append(
                await producer.send_and_wait(
                    topic.value, value, key=key, partition=0, headers=headers
                )
            )
        return sent
    finally:
        await producer.stop()


async def letters_about(bootstrap: str, topic: Topic, offsets: set[int]) -> list[Any]:
    """Dead-letter records of partition 0 of `topic` at `offsets`."""
    found = []
    async for value in read_all(bootstrap, Topic.DLQ):
        data = MessageDeadLettered.model_validate_json(value).data
        if (data.original_topic, data.partition, data.offset) in {
            (topic.value, 0, o) for o in offsets
        }:
            found.append(data)
    return found


async def lag(bootstrap: str, group: str, topic: Topic) -> int:
    """High-water mark minus the group's committed offset, summed over the topic's partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [tp for tp in committed if tp.topic == topic.value]
        ends = await consumer.end_offsets(parts) if parts else {}
        return sum(ends[tp] - committed[tp].offset for tp in parts)
    finally:
        await consumer.stop()


def action(cid: str, action_id: str, kind: LifecycleAction, **fields: Any) -> bytes:
    """A CaseActionTaken record; `fields` go into its data as they are (even past the contract)."""
    now = datetime.now(UTC)
    data = CaseAction(
        complaint_id=cid, action=kind, action_id=action_id, actor="lead-e2e", occurred_at=now
    )
    event = CaseActionTaken.build(
        data=data, subject=cid, source="/staff/e2e", time=now, cause=action_id
    )
    body = json.loads(encode(event))
    body["data"] |= fields
    return json.dumps(body, ensure_ascii=False).encode()


async def scenario() -> None:
    run = f"big{secrets.token_hex(3)}"
    config = StackConfig(database=f"complaints_{run}", extra_env={"SLA_CENSUS_SECONDS": "0"})
    client: AsyncMongoClient[Json] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    pipeline = Pipeline(config)
    intake_port, sla_port = config.port("intake"), config.port("sla")
    try:
        pipeline.start_all(["intake", "classifier", "sla"])
        await pipeline.wait_ready()
        first, later = workload.build(run_id=run, count=2, start=datetime.now(UTC))

        async def case_of(message: workload.RawMessage) -> Json | None:
            found: Json | None = await db["complaints"].find_one(
                {"external_id": message.external_id}, {"_id": 1}
            )
            return found and await db["cases"].find_one({"_id": found["_id"]}, {"_id": 1})

        await produce(config.kafka, Topic.RAW, [(first.key, first.value)])
        cid = (await until(lambda: case_of(first), "the first case"))["_id"]

        raw_before = await sample(intake_port, "complaints_messages_processed_total")
        intake_dead = await sample(intake_port, "complaints_dead_letters_total")
        sla_dead = await sample(sla_port, "complaints_dead_letters_total")

        # ~900 KB on the raw topic, then a good message behind it on the same partition.
        huge_raw = json.dumps(
            {"channel": "web", "external_id": f"{run}-huge", "text": "长" * 300_000},
            ensure_ascii=False,
        ).encode()
        assert 850_000 < len(huge_raw) < 1_000_000
        raw_meta = await produce(
            config.kafka, Topic.RAW, [(b"web:huge", huge_raw), (later.key, later.value)]
        )
        await until(lambda: case_of(later), "the message behind the oversized one")

        # ~930 KB action, then a good action on the same case (same partition) behind it.
        huge_action = action(
            cid, f"{run}-huge", LifecycleAction.ASSIGNED, assignee="h", note="备" * 310_000
        )
        assert 900_000 < len(huge_action) < 1_000_000
        good = action(
            cid, f"{run}-good", LifecycleAction.ASSIGNED, assignee="handler-e2e", department="x"
        )
        action_meta = await produce(
            config.kafka,
            Topic.LIFECYCLE,
            [(cid.encode(), huge_action), (cid.encode(), good)],
        )

        async def applied() -> bool:
            doc = await db["cases"].find_one({"_id": cid}, {"history": 1})
            return any(h.get("action_id") == f"{run}-good" for h in (doc or {}).get("history", []))

        await until(applied, "the action behind the oversized one")
        await until(
            lambda: _zero(lag(config.kafka, "intake", Topic.RAW)), "intake lag back to zero"
        )

        raw_letters = await letters_about(config.kafka, Topic.RAW, {raw_meta[0].offset})
        action_letters = await letters_about(config.kafka, Topic.LIFECYCLE, {action_meta[0].offset})
        sys.stdout.write(
            f"\noversized e2e: raw {len(huge_raw)} B -> {[d.reason for d in raw_letters]}, "
            f"action {len(huge_action)} B -> {[d.reason for d in action_letters]}\n"
        )
        assert len(raw_letters) == 1
        assert len(action_letters) == 1
        for letter, original in ((raw_letters[0], huge_raw), (action_letters[0], huge_action)):
            assert letter.payload_omitted
            assert letter.payload_length == len(original)
            assert letter.payload_sha256 == hashlib.sha256(original).hexdigest()
        # Exactly what was sent was finished and dead-lettered: a redelivered batch counts twice.
        assert await sample(intake_port, "complaints_messages_processed_total") - raw_before == 2
        assert await sample(intake_port, "complaints_dead_letters_total") - intake_dead == 1
        assert await sample(sla_port, "complaints_dead_letters_total") - sla_dead == 1
        for port in (intake_port, sla_port):
            assert await sample(port, "complaints_dead_letter_failures_total") == 0
        assert not pipeline.crashed()
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()


async def _zero(value: Awaitable[int]) -> bool:
    return await value == 0


def test_records_near_the_broker_limit_are_dead_lettered_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    start_local_stack()
    with capsys.disabled():
        asyncio.run(scenario())
