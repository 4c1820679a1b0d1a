"""servicekit.polling.long_poll: an empty poll waits for records instead of napping after them."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from contracts import Topic
from servicekit import polling
from servicekit.delivery import Inbound, Rejection
from servicekit.polling import long_poll
from servicekit.settings import KafkaSettings
from servicekit.subscriptions import consume
from tests._builders.delivery import policy


class Consumer:
    """Answers each `getmany` with the next of `answers` ({partition: records}) and records
    what it was asked."""

    def __init__(self, *answers: dict[str, list[str]]) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []

    async def getmany(self, **kwargs: Any) -> dict[str, list[str]]:
        self.asked.append(kwargs)
        return self.answers.pop(0)


class Subscriber:
    """The two things of FastStream's batch subscriber the poll uses."""

    max_records = 7

    async def get_msg(self, consumer: Any) -> tuple[Any, ...]:
        raise AssertionError("FastStream's poll was kept")


async def test_the_poll_waits_its_wait_and_hands_on_every_partitions_records() -> None:
    subscriber = Subscriber()
    assert long_poll(subscriber, 500)
    consumer = Consumer({"p0": ["a", "b"], "p1": ["c"]})
    assert await subscriber.get_msg(consumer) == ("a", "b", "c")
    assert consumer.asked == [{"timeout_ms": 500, "max_records": 7}]


async def test_a_poll_that_comes_back_empty_at_once_naps_so_it_cannot_spin(
    monkeypatch: Any,
) -> None:
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    monkeypatch.setattr(polling.asyncio, "sleep", nap)
    subscriber = Subscriber()
    long_poll(subscriber, 500)
    assert await subscriber.get_msg(Consumer({})) == ()
    assert naps == [polling.NAP_S]


async def test_a_poll_that_waited_for_nothing_polls_again_without_a_nap(monkeypatch: Any) -> None:
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    readings = iter([10.0, 10.5])  # the poll's start, and its end: the whole 500 ms waited
    monkeypatch.setattr(polling.asyncio, "sleep", nap)
    monkeypatch.setattr(polling, "monotonic", lambda: next(readings))
    subscriber = Subscriber()
    long_poll(subscriber, 500)
    assert await subscriber.get_msg(Consumer({})) == ()
    assert naps == []


def test_a_subscriber_without_a_batch_poll_keeps_its_own() -> None:
    assert not long_poll(object(), 500)


async def on_batch(messages: Any) -> list[Rejection]:
    """Handle nothing."""
    return []


def test_every_subscription_takes_the_waiting_poll() -> None:
    broker = KafkaBroker()
    delivery, _ = policy(CollectorRegistry())
    settings = KafkaSettings(poll_wait_ms=750)
    consume(
        broker, topic=Topic.DLQ, group="g", settings=settings, policy=delivery, handler=on_batch
    )
    (subscriber,) = broker.subscribers
    consumer = Consumer({"p0": [Inbound("t", 0, 0, None, b"", 0)]})
    records = asyncio.run(subscriber.get_msg(consumer))  # type: ignore[attr-defined]
    assert len(records) == 1
    assert consumer.asked == [{"timeout_ms": 750, "max_records": settings.max_records}]
