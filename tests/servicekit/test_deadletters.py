"""Dead-lettering never fails on size, and a message's own failures are never retried forever."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo.errors import DocumentTooLarge, OperationFailure

from contracts import MessageDeadLettered
from servicekit.clock import FakeClock
from servicekit.deadletters import UnprocessableError, bounded_letter, poison
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection
from servicekit.metrics import KitMetrics

CID = "CP20261124-7K3M9Q2XAB"


class SizedBroker:
    """A broker that refuses records over `limit` bytes, as Kafka's producer does."""

    def __init__(self, limit: int = 1_048_576, *, always: Exception | None = None) -> None:
        self.limit = limit
        self.always = always
        self.published: list[dict[str, Any]] = []
        self.refused = 0

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        if self.always is not None or len(body) > self.limit:
            self.refused += 1
            raise self.always or MessageSizeTooLargeError()
        self.published.append({"body": body, **kwargs})


def inbound(value: bytes, offset: int = 7) -> Inbound:
    return Inbound("complaints.raw.v1", 2, offset, CID.encode(), value, timestamp_ms=-1)


def policy(broker: SizedBroker, registry: CollectorRegistry, **kwargs: Any) -> DeliveryPolicy:
    return DeliveryPolicy(
        service="intake",
        broker=cast(KafkaBroker, broker),
        metrics=KitMetrics(registry, "intake"),
        clock=FakeClock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC)),
        max_attempts=3,
        **kwargs,
    )


def letters(broker: SizedBroker) -> list[MessageDeadLettered]:
    return [MessageDeadLettered.model_validate_json(p["body"]) for p in broker.published]


def test_a_small_original_is_kept_whole_with_its_digest() -> None:
    letter = bounded_letter(
        service="intake",
        reason="not_json",
        detail="x" * 5000,
        topic="complaints.raw.v1",
        partition=1,
        offset=2,
        key="k" * 300,
        payload=b"hello",
        attempts=1,
        payload_bound=64,
    )
    assert base64.b64decode(letter.payload_base64) == b"hello"
    assert not letter.payload_omitted
    assert letter.payload_sha256 == hashlib.sha256(b"hello").hexdigest()
    assert letter.payload_length == 5
    assert len(letter.detail) == 1000
    assert letter.key is None  # a 300-character key is not an id


async def test_a_900_kb_original_is_recorded_by_digest_length_and_coordinates() -> None:
    registry = CollectorRegistry()
    broker = SizedBroker()
    huge = b'{"text": "' + b"x" * 900_000 + b'"}'
    await policy(broker, registry).dead_letter([Rejection(inbound(huge), "oversize", "big")])
    [event] = letters(broker)
    assert event.data.payload_omitted
    assert event.data.payload_base64 == ""
    assert event.data.payload_sha256 == hashlib.sha256(huge).hexdigest()
    assert event.data.payload_length == len(huge)
    assert (event.data.original_topic, event.data.partition, event.data.offset) == (
        "complaints.raw.v1",
        2,
        7,
    )
    assert len(broker.published[0]["body"]) < 4096


async def test_a_record_the_broker_still_refuses_is_sent_again_without_the_bytes() -> None:
    registry = CollectorRegistry()
    broker = SizedBroker(limit=20_000)
    bound = 512 * 1024  # an operator set the bound above what this broker takes
    big = b"y" * 100_000
    await policy(broker, registry, payload_bound=bound).dead_letter(
        [Rejection(inbound(big), "oversize", "big")]
    )
    assert broker.refused == 1
    [event] = letters(broker)
    assert event.data.payload_omitted
    assert event.data.payload_length == len(big)


async def test_a_dead_letter_that_cannot_be_published_is_counted_and_never_raises() -> None:
    registry = CollectorRegistry()
    broker = SizedBroker(always=RuntimeError("topic authorization failed"))
    delivery = policy(broker, registry)
    calls = 0

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        nonlocal calls
        calls += 1
        return [Rejection(m, "not_json", "payload is not valid JSON") for m in messages]

    await delivery.run([inbound(b"{"), inbound(b"[", offset=8)], handler)  # returns: committed
    assert calls == 1
    assert broker.refused == 4  # each record, then each payload-free copy
    failures = registry.get_sample_value(
        "complaints_dead_letter_failures_total", {"service": "intake", "error": "RuntimeError"}
    )
    assert failures == 2


async def test_a_document_too_large_is_rejected_at_once_not_retried() -> None:
    registry = CollectorRegistry()
    broker = SizedBroker()
    calls: list[int] = []

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        calls.append(len(messages))
        if any(m.offset == 8 for m in messages):
            raise DocumentTooLarge("BSON document too large")
        return []

    batch = [inbound(b"a", offset=7), inbound(b"b", offset=8), inbound(b"c", offset=9)]
    await policy(broker, registry).run(batch, handler)
    assert calls == [3, 1, 1, 1]  # the batch, then each alone; the poison one exactly once
    [event] = letters(broker)
    assert (event.data.reason, event.data.offset) == ("oversized_document", 8)


def test_errors_no_retry_can_cure_are_named() -> None:
    assert poison(UnprocessableError("bad", "why"), "sla") is not None
    too_big = OperationFailure("object to insert too large", code=10334)
    assert getattr(poison(too_big, "sla"), "reason", None) == "oversized_document"
    assert getattr(poison(MessageSizeTooLargeError(), "sla"), "reason", None) == "oversized_event"
    assert poison(OperationFailure("interrupted", code=11601), "sla") is None
    assert poison(ValueError("x"), "sla") is None
