"""Delivery metrics fed by servicekit: stage latency, processed, batch sizes, dead letters."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from contracts import Topic
from servicekit.delivery import Inbound, Rejection
from tests._builders.delivery import CID, message, policy


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {"service": "sla", **labels}) or 0.0


async def test_stage_latency_is_each_finished_record_s_age_in_real_time() -> None:
    registry = CollectorRegistry()
    delivery, _ = policy(registry)
    batch = [message(1, age_s=0.25), message(2, age_s=2.0), message(3, age_s=None)]

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        return []

    await delivery.run(batch, handler)
    # The third record carries no timestamp: nothing to measure.
    assert value(registry, "complaints_stage_latency_seconds_count") == 2
    assert value(registry, "complaints_stage_latency_seconds_sum") == 2.25
    assert value(registry, "complaints_stage_latency_seconds_bucket", le="0.25") == 1
    assert value(registry, "complaints_stage_latency_seconds_bucket", le="2.5") == 2
    assert value(registry, "complaints_batch_size_count") == 1
    assert value(registry, "complaints_batch_size_sum") == 3
    topic = {"topic": "complaints.classified.v1"}
    assert value(registry, "complaints_messages_processed_total", **topic) == 3


async def test_rejected_records_are_dead_lettered_not_timed() -> None:
    registry = CollectorRegistry()
    delivery, broker = policy(registry)
    batch = [message(1, age_s=1.0), message(2, age_s=1.0)]

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        return [Rejection(messages[1], "invalid_event", "not a ComplaintClassified")]

    await delivery.run(batch, handler)
    assert value(registry, "complaints_stage_latency_seconds_count") == 1
    assert value(registry, "complaints_dead_letters_total", reason="invalid_event") == 1
    [dead] = broker.published
    assert dead["topic"] == Topic.DLQ.value
    assert dead["key"] == CID.encode()


async def test_a_record_from_a_clock_ahead_of_ours_counts_as_no_wait() -> None:
    registry = CollectorRegistry()
    delivery, _ = policy(registry)

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        return []

    await delivery.run([message(1, age_s=-3.0)], handler)
    assert value(registry, "complaints_stage_latency_seconds_count") == 1
    assert value(registry, "complaints_stage_latency_seconds_sum") == 0.0
