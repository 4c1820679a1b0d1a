"""Consumer lag: high-water mark minus committed offset, per topic and partition held."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set
from typing import cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry, generate_latest

from contracts import Topic
from servicekit.delivery import DeliveryPolicy
from servicekit.lag import ConsumerLag, OffsetSource, partition_lags, subscriber_consumers
from servicekit.metrics import KitMetrics
from servicekit.settings import KafkaSettings, ServiceSettings
from servicekit.shell import ServiceShell
from servicekit.signing import SigningSettings
from servicekit.subscriptions import consume

NORMALIZED = Topic.NORMALIZED.value
SLA = Topic.SLA.value


class FakeConsumer:
    """Offsets as a broker would report them; `fail` makes the coordinator unreachable."""

    def __init__(
        self,
        offsets: dict[TopicPartition, tuple[int | None, int | None]],
        *,
        end: int = 0,
        beginning: int = 0,
    ) -> None:
        self.offsets = offsets  # partition -> (last fetched high-water mark, committed offset)
        self.end = end
        self.beginning = beginning
        self.fail = False

    def assignment(self) -> Set[TopicPartition]:
        return frozenset(self.offsets)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.offsets[partition][0]

    async def committed(self, partition: TopicPartition) -> int | None:
        if self.fail:
            raise TimeoutError("coordinator unavailable")
        return self.offsets[partition][1]

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, self.end)

    async def beginning_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, self.beginning)


def _lag(registry: CollectorRegistry, topic: str, partition: int) -> float | None:
    return registry.get_sample_value(
        "complaints_consumer_lag_messages",
        {"service": "sla", "topic": topic, "partition": str(partition)},
    )


def _sampler(
    consumers: list[FakeConsumer], interval: float = 10.0
) -> tuple[ConsumerLag, CollectorRegistry]:
    registry = CollectorRegistry()
    kit = KitMetrics(registry, "sla")
    sources = cast(list[OffsetSource], consumers)
    lag = ConsumerLag(
        service="sla", gauge=kit.consumer_lag, consumers=lambda: sources, interval=interval
    )
    return lag, registry


async def test_lag_is_the_high_water_mark_minus_the_committed_offset() -> None:
    consumer = FakeConsumer(
        {TopicPartition(NORMALIZED, 0): (120, 100), TopicPartition(NORMALIZED, 3): (50, 50)}
    )
    assert await partition_lags(consumer) == {(NORMALIZED, 0): 20, (NORMALIZED, 3): 0}


async def test_unknown_marks_are_asked_from_the_brokers() -> None:
    consumer = FakeConsumer(
        {TopicPartition(NORMALIZED, 1): (None, 10), TopicPartition(NORMALIZED, 2): (40, None)},
        end=70,
        beginning=5,
    )
    # No fetch yet: the brokers' end offset. Never committed: counted from the first offset.
    assert await partition_lags(consumer) == {(NORMALIZED, 1): 60, (NORMALIZED, 2): 35}


class Coordinator:
    """aiokafka's group coordinator: committed offsets of many partitions in one request."""

    def __init__(self, offsets: dict[TopicPartition, int]) -> None:
        self.offsets = offsets
        self.requests = 0

    async def fetch_committed_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        self.requests += 1
        return {
            tp: OffsetAndMetadata(self.offsets[tp], "") for tp in partitions if tp in self.offsets
        }


async def test_committed_offsets_are_asked_in_one_request_where_the_client_allows() -> None:
    parts = [TopicPartition(NORMALIZED, p) for p in range(4)]
    consumer = FakeConsumer(dict.fromkeys(parts, (100, None)), beginning=7)
    # partition 0 committed 40, 1 never (absent), 2 never (-1), 3 committed 100
    coordinator = Coordinator({parts[0]: 40, parts[2]: -1, parts[3]: 100})
    consumer._coordinator = coordinator  # type: ignore[attr-defined]
    lags = await partition_lags(consumer)
    assert coordinator.requests == 1
    assert lags == {
        (NORMALIZED, 0): 60,
        (NORMALIZED, 1): 93,
        (NORMALIZED, 2): 93,
        (NORMALIZED, 3): 0,
    }


async def test_a_stale_mark_never_shows_a_negative_lag() -> None:
    consumer = FakeConsumer({TopicPartition(NORMALIZED, 0): (90, 100)})
    assert await partition_lags(consumer) == {(NORMALIZED, 0): 0}


async def test_an_unassigned_consumer_reports_nothing() -> None:
    assert await partition_lags(FakeConsumer({})) == {}


async def test_gauge_follows_the_assignment_across_consumers_and_rebalances() -> None:
    first = FakeConsumer({TopicPartition(NORMALIZED, 0): (10, 4)})
    second = FakeConsumer({TopicPartition(SLA, 5): (9, 9), TopicPartition(SLA, 2): (30, 0)})
    lag, registry = _sampler([first, second])
    await lag.sample()
    assert _lag(registry, NORMALIZED, 0) == 6
    assert _lag(registry, SLA, 5) == 0
    assert _lag(registry, SLA, 2) == 30

    # A rebalance hands SLA partition 2 to another replica and gives this one partition 1.
    second.offsets = {TopicPartition(SLA, 5): (12, 9), TopicPartition(SLA, 1): (7, 7)}
    await lag.sample()
    assert _lag(registry, SLA, 2) is None  # the other replica reports it now
    assert _lag(registry, SLA, 5) == 3
    assert _lag(registry, SLA, 1) == 0
    exposed = generate_latest(registry).decode()
    assert exposed.count("complaints_consumer_lag_messages{") == 3


class CountedLag(ConsumerLag):
    """Tells the test each time a sampling round has ended (done or failed)."""

    rounds: asyncio.Queue[None]

    async def sample(self) -> dict[tuple[str, int], int]:
        try:
            return await super().sample()
        finally:
            self.rounds.put_nowait(None)


async def test_a_failed_sample_keeps_the_last_values_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = FakeConsumer({TopicPartition(NORMALIZED, 0): (10, 4)})
    registry = CollectorRegistry()
    lag = CountedLag(
        service="sla",
        gauge=KitMetrics(registry, "sla").consumer_lag,
        consumers=lambda: [consumer],
        interval=0.001,
    )
    lag.rounds = asyncio.Queue()
    await lag.sample()
    await lag.rounds.get()
    consumer.fail = True
    consumer.offsets = {TopicPartition(NORMALIZED, 0): (50, 4)}
    with caplog.at_level(logging.WARNING, logger="servicekit.lag"):
        await lag.start()
        await asyncio.wait_for(lag.rounds.get(), timeout=5)  # failed; logged before the nap
        assert [r.getMessage() for r in caplog.records] == ["consumer lag sample failed; retrying"]
        assert caplog.records[0].fields == {"error": "TimeoutError"}  # type: ignore[attr-defined]
        assert _lag(registry, NORMALIZED, 0) == 6
        consumer.fail = False
        await asyncio.wait_for(lag.rounds.get(), timeout=5)
        await lag.stop()
    assert _lag(registry, NORMALIZED, 0) == 46


async def test_interval_zero_turns_sampling_off() -> None:
    consumer = FakeConsumer({TopicPartition(NORMALIZED, 0): (10, 4)})
    lag, registry = _sampler([consumer], interval=0)
    await lag.start()
    await lag.stop()
    assert _lag(registry, NORMALIZED, 0) is None


class IdleConsumer(AIOKafkaConsumer):  # type: ignore[misc]
    """Stands for the consumer a started subscriber holds; never connects."""

    def __init__(self) -> None:
        pass

    def __del__(self) -> None:
        pass


async def test_the_broker_s_running_consumers_are_sampled() -> None:
    broker = KafkaBroker("127.0.0.1:9")
    registry = CollectorRegistry()
    kit = KitMetrics(registry, "sla")
    policy = DeliveryPolicy(service="sla", broker=broker, metrics=kit, clock=None)  # type: ignore[arg-type]

    async def handler(messages: object) -> list[object]:
        return []

    consume(
        broker,
        topic=Topic.NORMALIZED,
        group="g",
        settings=KafkaSettings(),
        policy=policy,
        handler=handler,  # type: ignore[arg-type]
    )
    assert subscriber_consumers(broker) == []  # not started: nothing to ask
    [subscriber] = broker.subscribers
    running = IdleConsumer()
    subscriber.consumer = running  # type: ignore[attr-defined]
    assert subscriber_consumers(broker) == [running]


async def test_the_shell_samples_from_start_up_until_shutdown() -> None:
    settings = ServiceSettings(lag_interval_seconds=2.5, signing=SigningSettings(dev_keys=True))
    settings.kafka.create_topics = False
    shell = ServiceShell(service="sla", settings=settings, with_mongo=False)
    assert shell.lag.interval == 2.5
    app = shell.app()
    async with TestKafkaBroker(shell.broker):
        assert not shell.lag.running()
        await app.start()
        assert shell.lag.running()
        await app.stop()
        assert not shell.lag.running()
