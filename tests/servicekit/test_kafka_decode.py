"""The broker hands each batch's raw records to the handler, decoded once — by the handler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faststream.kafka.parser as kafka_parser
import pytest
from faststream.kafka import TestKafkaBroker
from prometheus_client import CollectorRegistry

from contracts import Topic
from servicekit.clock import FakeClock
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, consume
from servicekit.kafka import make_broker
from servicekit.metrics import KitMetrics
from servicekit.settings import KafkaSettings


async def test_faststream_does_not_decode_the_records_before_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[Any] = []
    original = kafka_parser.decode_message
    monkeypatch.setattr(
        kafka_parser, "decode_message", lambda message: decoded.append(message) or original(message)
    )
    registry, settings = CollectorRegistry(), KafkaSettings()
    broker = make_broker(settings=settings, service="probe", registry=registry)
    policy = DeliveryPolicy(
        service="probe",
        broker=broker,
        metrics=KitMetrics(registry, "probe"),
        clock=FakeClock(datetime(2026, 11, 24, tzinfo=UTC)),
    )
    seen: list[bytes] = []

    async def handler(messages: Sequence[Inbound]) -> list[Rejection]:
        seen.extend(m.value for m in messages)
        return []

    consume(
        broker, topic=Topic.RAW, group="probe", settings=settings, policy=policy, handler=handler
    )
    async with TestKafkaBroker(broker):
        await broker.publish_batch(b'{"a": 1}', b'{"b": [2]}', topic=Topic.RAW.value)
    assert seen == [b'{"a": 1}', b'{"b": [2]}']
    assert decoded == []
