"""Each consumer's own lag: the high-water mark minus the group's committed offset.

FastStream's Prometheus middleware counts messages but says nothing about how far behind a
consumer group is. `ConsumerLag` asks the aiokafka consumers behind the broker's subscribers every
few seconds and keeps one gauge child per (service, topic, partition) this process holds. Labels
stay bounded: topics come from the contracts, partitions from their fixed counts, and a partition
handed to another replica by a rebalance loses its child here (that replica reports it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Set
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from prometheus_client import Gauge

log = logging.getLogger(__name__)

LAG_INTERVAL = 10.0
"""Seconds between two samples (the default of `ServiceSettings.lag_interval_seconds`)."""

SAMPLE_TIMEOUT = 5.0
"""A sample waiting longer than this on the group coordinator (a rebalance) is skipped."""


class OffsetSource(Protocol):
    """What lag needs from a consumer (aiokafka's `AIOKafkaConsumer` has all of it)."""

    def assignment(self) -> Set[Any]:
        """The topic partitions assigned to this consumer."""
        ...

    def highwater(self, partition: Any) -> int | None:
        """The last high-water mark a fetch returned (None before the first fetch)."""
        ...

    async def committed(self, partition: Any) -> int | None:
        """The group's committed offset (None if it never committed)."""
        ...

    async def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        """The current high-water marks, asked from the brokers."""
        ...

    async def beginning_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        """The first retained offsets, asked from the brokers."""
        ...


Lags = dict[tuple[str, int], int]


async def partition_lags(consumer: OffsetSource) -> Lags:
    """Lag per (topic, partition) assigned to `consumer`.

    The high-water mark comes from the consumer's last fetch where it has one, else from the
    brokers. A partition the group never committed on counts from its first retained offset,
    which is where `auto_offset_reset="earliest"` starts it.
    """
    parts = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
    if not parts:
        return {}
    highs: dict[Any, int | None] = {tp: consumer.highwater(tp) for tp in parts}
    if unknown := [tp for tp, high in highs.items() if high is None]:
        highs |= await consumer.end_offsets(unknown)
    committed = await committed_offsets(consumer, parts)
    if never := [tp for tp, offset in committed.items() if offset is None]:
        committed |= await consumer.beginning_offsets(never)
    return {
        (tp.topic, tp.partition): max(0, (highs[tp] or 0) - (committed[tp] or 0)) for tp in parts
    }


async def committed_offsets(consumer: OffsetSource, parts: list[Any]) -> dict[Any, int | None]:
    """The group's committed offset of each partition, in one request where the client allows.

    aiokafka's public `committed` asks the group coordinator once per partition: a service holding
    24 partitions paid 24 round trips per sample (3–5 % of a service's CPU at the bench's 1 s
    interval). Its coordinator answers for many partitions in one request; that is used when
    present, the public call otherwise.
    """
    fetch = getattr(getattr(consumer, "_coordinator", None), "fetch_committed_offsets", None)
    if fetch is None:
        return {tp: await consumer.committed(tp) for tp in parts}
    found = await fetch(parts)
    offsets = {tp: found[tp].offset if tp in found else None for tp in parts}
    return {tp: None if offset is None or offset < 0 else offset for tp, offset in offsets.items()}


def subscriber_consumers(broker: KafkaBroker) -> list[OffsetSource]:
    """The running aiokafka consumers behind `broker`'s subscribers (none before it starts)."""
    consumers = (getattr(subscriber, "consumer", None) for subscriber in broker.subscribers)
    return [consumer for consumer in consumers if isinstance(consumer, AIOKafkaConsumer)]


class ConsumerLag:
    """Keeps the lag gauge equal to the lag of every partition this process consumes."""

    def __init__(
        self,
        *,
        service: str,
        gauge: Gauge,
        consumers: Callable[[], Iterable[OffsetSource]],
        interval: float = LAG_INTERVAL,
        timeout: float = SAMPLE_TIMEOUT,
    ) -> None:
        self._service = service
        self._gauge = gauge
        self._consumers = consumers
        self.interval = interval
        self._timeout = timeout
        self._shown: set[tuple[str, int]] = set()
        self._task: asyncio.Task[None] | None = None

    async def sample(self) -> Lags:
        """Ask every consumer once and set the gauge; partitions no longer held are removed."""
        lags: Lags = {}
        for consumer in self._consumers():
            lags |= await asyncio.wait_for(partition_lags(consumer), self._timeout)
        for topic, partition in self._shown - lags.keys():
            self._gauge.remove(self._service, topic, str(partition))
        for (topic, partition), lag in lags.items():
            self._gauge.labels(self._service, topic, str(partition)).set(lag)
        self._shown = set(lags)
        return lags

    async def run_forever(self) -> None:
        """Sample every `interval` seconds until cancelled; a failed sample keeps the old values."""
        while True:
            try:
                await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "consumer lag sample failed; retrying",
                    extra={"fields": {"error": type(exc).__name__}},
                )
            await asyncio.sleep(self.interval)

    def running(self) -> bool:
        """Whether sampling runs in the background."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Begin sampling in the background (an after-startup hook); interval 0 turns it off."""
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name="consumer-lag")

    async def stop(self) -> None:
        """Stop sampling (an on-shutdown hook, before the consumers stop)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
