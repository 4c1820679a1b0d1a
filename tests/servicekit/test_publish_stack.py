"""`publish_all` on the real broker: records go to the producer directly (issue 15), keyed,
with the CloudEvents headers and a signature a verifier accepts, and in order per key.

It writes to the dead-letter topic, which no service consumes: records on a pipeline topic
would be read by every later end-to-end run's fresh consumer groups."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from contracts import DeadLetter, MessageDeadLettered, Topic
from servicekit.inbound import Inbound
from servicekit.kafka import _producer, client_kwargs, ensure_topics, make_broker, publish_all
from servicekit.settings import KafkaSettings
from servicekit.signing import Signer, Verifier

pytestmark = pytest.mark.stack

KAFKA = KafkaSettings(bootstrap_servers=os.environ.get("COMPLAINTS_KAFKA", "127.0.0.1:9092"))
KEY = b"k" * 32


def letter(cid: str, detail: str) -> MessageDeadLettered:
    """A dead letter about `cid` (its subject, so its record key)."""
    data = DeadLetter(
        service="publish-test",
        reason="test",
        detail=detail,
        original_topic=Topic.RAW.value,
        partition=0,
        offset=0,
        payload_base64="",
    )
    return MessageDeadLettered.build(
        data=data, subject=cid, source="/test", time=datetime.now(UTC), cause=f"{cid}-{detail}"
    )


async def test_published_records_carry_key_headers_and_a_valid_signature() -> None:
    await ensure_topics(KAFKA, [Topic.DLQ])
    broker = make_broker(settings=KAFKA, service="publish-test", registry=CollectorRegistry())
    await broker.start()
    run = secrets.token_hex(3).upper()
    cids = [f"CP20261207-{run}{n:04d}" for n in range(3)]
    events = [letter(cid, "first") for cid in cids]
    events.append(letter(cids[0], "second"))  # the same key again
    consumer = AIOKafkaConsumer(Topic.DLQ.value, **client_kwargs(KAFKA), auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.seek_to_end()
        for partition in consumer.assignment():
            await consumer.position(partition)  # the end, fixed before anything is sent
        assert _producer(broker) is not None  # the direct path, not FastStream's
        await publish_all(broker, events, Signer("classifier", KEY))
        seen: list[Inbound] = []
        while len(seen) < len(events):
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, "the published records did not arrive within 10 s"
            seen += [
                Inbound.from_record(r)
                for records in batches.values()
                for r in records
                if r.key and r.key.decode() in cids
            ]
    finally:
        await consumer.stop()
        await broker.stop()
    verifier = Verifier({"classifier": KEY})
    for record in seen:
        assert verifier.refusal(record, "classifier") is None
        headers = dict(record.headers)
        assert headers["ce_type"] == b"cn.complaints.deadletter.v1"
        assert headers["content-type"] == b"application/cloudevents+json"
    read = [MessageDeadLettered.model_validate_json(r.value) for r in seen]
    assert [e.data.detail for e in read if e.subject == cids[0]] == ["first", "second"]
    assert {e.id for e in read} == {e.id for e in events}


async def test_a_large_batch_goes_in_batches_of_the_configured_size_and_all_arrive() -> None:
    """ADR 0045: the producer builds record batches up to `max_batch_bytes` (512 KiB), and the
    broker takes them: 400 records of ~2 KB on one key (one partition, ~0.9 MB) all arrive, in
    order."""
    await ensure_topics(KAFKA, [Topic.DLQ])
    broker = make_broker(settings=KAFKA, service="publish-test", registry=CollectorRegistry())
    await broker.start()
    run = secrets.token_hex(3).upper()
    cid = f"CP20261207-{run}9999"
    events = [letter(cid, f"{n:04d}" + "x" * 2_000) for n in range(400)]
    consumer = AIOKafkaConsumer(Topic.DLQ.value, **client_kwargs(KAFKA), auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.seek_to_end()
        for partition in consumer.assignment():
            await consumer.position(partition)
        producer = _producer(broker)
        assert producer is not None
        assert producer._message_accumulator._batch_size == KAFKA.max_batch_bytes == 512 * 1024
        await publish_all(broker, events)
        seen: list[str] = []
        while len(seen) < len(events):
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, "the published records did not arrive within 10 s"
            seen += [
                MessageDeadLettered.model_validate_json(r.value).data.detail[:4]
                for records in batches.values()
                for r in records
                if r.key == cid.encode()
            ]
    finally:
        await consumer.stop()
        await broker.stop()
    assert seen == [f"{n:04d}" for n in range(400)]
