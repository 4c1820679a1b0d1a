"""At-least-once consumption: commit after work, retry what is transient, dead-letter poison.

Every subscriber in the pipeline consumes in batches with `NACK_ON_ERROR`: offsets are committed
only after the batch handler returned, i.e. after its writes are stored and its events published.
Handlers are idempotent, so a redelivered batch changes nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from aiokafka.errors import RequestTimedOutError as KafkaRequestTimedOut
from faststream.kafka import KafkaBroker
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, WriteConcernError

from contracts import DeadLetter, MessageDeadLettered
from servicekit.assignment import Assignments
from servicekit.bodies import Batch, Handler, Received
from servicekit.clock import Clock
from servicekit.deadletters import PAYLOAD_BOUND, bounded_letter, poison, without_payload
from servicekit.inbound import (
    BatchHandler,
    Inbound,
    Rejection,
    complaint_id,
    text_key,
)
from servicekit.kafka import publish_all
from servicekit.logs import correlated
from servicekit.metrics import KitMetrics

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=Inbound)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    WriteConcernError,
    KafkaConnectionError,
    KafkaTimeoutError,
    KafkaRequestTimedOut,
    NodeNotReadyError,
    TimeoutError,
)
"""Failures of infrastructure, not of the message: retried until the infrastructure is back."""

__all__ = [
    "TRANSIENT_ERRORS",
    "BatchHandler",
    "DeliveryPolicy",
    "Inbound",
    "Rejection",
    "complaint_id",
]


class DeliveryPolicy:
    """Runs a batch handler with bounded retries and dead-lettering around it."""

    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        metrics: KitMetrics,
        clock: Clock,
        max_attempts: int = 3,
        backoff_max: float = 10.0,
        wall: Callable[[], float] = time.time,
        payload_bound: int = PAYLOAD_BOUND,
        assignments: Assignments | None = None,
    ) -> None:
        self._service = service
        self.assignments = assignments or Assignments()  # the consumers `consume` subscribed
        self._broker = broker
        self._metrics = metrics
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff_max = backoff_max
        self._wall = wall  # real epoch seconds, as Kafka timestamps are (the clock may be scaled)
        self._payload_bound = payload_bound

    async def run(self, messages: Sequence[Inbound], handler: BatchHandler) -> None:
        """Process raw `messages`; returns once each is done or dead-lettered."""
        # The raw records are the items: a BatchHandler reads nothing but what Inbound has.
        await self.run_batch(
            Batch(messages, cast(list[Received[bytes]], list(messages)), []), handler
        )

    async def run_batch(self, batch: Batch[T], handler: Handler[T]) -> None:
        """Process a decoded batch: what the decoder refused is dead-lettered with what the
        handler refuses; returns once each record is done or dead-lettered.

        A batch of one record logs under its complaint id (the correlation id); a larger batch
        logs without one, except where a single record is handled or dead-lettered.
        """
        records = batch.records
        with correlated(complaint_id(records[0]) if len(records) == 1 else None):
            await self._run(batch, handler)

    async def _run(self, batch: Batch[T], handler: Handler[T]) -> None:
        records = batch.records
        self._metrics.batch_size.labels(self._service).observe(len(records))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "batch",
                extra={
                    "fields": {"offsets": [f"{m.topic}/{m.partition}/{m.offset}" for m in records]}
                },
            )
        rejections: list[Rejection] = list(batch.refused)
        if batch.items:
            try:
                rejections += await self._until_infrastructure_answers(batch.items, handler)
            except Exception:
                log.exception("batch failed; isolating the poison message one by one")
                rejections += await self._one_by_one(batch.items, handler)
        await self.dead_letter(rejections)
        if records:
            self._metrics.processed.labels(self._service, records[0].topic).inc(len(records))
        self._observe_latency(records, rejections)

    def _observe_latency(
        self, messages: Sequence[Inbound], rejections: Sequence[Rejection]
    ) -> None:
        """Stage latency of every finished (not rejected) message: its Kafka timestamp to now."""
        rejected = {(r.message.topic, r.message.partition, r.message.offset) for r in rejections}
        now_ms = self._wall() * 1000
        histogram = self._metrics.stage_latency.labels(self._service)
        for message in messages:
            if message.timestamp_ms > 0 and (
                (message.topic, message.partition, message.offset) not in rejected
            ):
                histogram.observe(max(0.0, (now_ms - message.timestamp_ms) / 1000))

    async def _until_infrastructure_answers(
        self,
        messages: Sequence[M],
        handler: Callable[[Sequence[M]], Awaitable[Sequence[Rejection]]],
    ) -> Sequence[Rejection]:
        attempt = 0
        while True:
            try:
                return await handler(messages)
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                self._metrics.retries.labels(self._service, type(exc).__name__).inc()
                delay = min(self._backoff_max, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)
                log.warning(
                    "transient failure, retrying batch",
                    extra={
                        "fields": {
                            "error": type(exc).__name__,
                            "attempt": attempt,
                            "delay_s": round(delay, 2),
                        }
                    },
                )
                await asyncio.sleep(delay)

    async def _one_by_one(
        self, messages: Sequence[Received[T]], handler: Handler[T]
    ) -> list[Rejection]:
        rejections: list[Rejection] = []
        for message in messages:
            with correlated(complaint_id(message)):
                rejections.extend(await self._isolated(message, handler))
        return rejections

    async def _isolated(self, message: Received[T], handler: Handler[T]) -> list[Rejection]:
        """Handle one message alone, with bounded attempts; what keeps failing is rejected."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return list(await self._until_infrastructure_answers([message], handler))
            except Exception as exc:
                if (refused := poison(exc, self._service)) is not None:
                    # The same bytes fail the same way every time: no retry can help.
                    return [Rejection(message, refused.reason, refused.detail)]
                if attempt == self._max_attempts:
                    log.exception(
                        "giving up on message",
                        extra={
                            "fields": {
                                "topic": message.topic,
                                "partition": message.partition,
                                "offset": message.offset,
                            }
                        },
                    )
                    detail = f"{type(exc).__name__} in {self._service} after {attempt} attempts"
                    return [Rejection(message, "processing_error", detail)]
                await asyncio.sleep(0.5 * 2**attempt)
        return []  # max_attempts < 1: nothing was tried

    async def dead_letter(self, rejections: Sequence[Rejection], attempts: int = 1) -> None:
        """Publish one dead-letter record per rejection; this never raises for a message's sake.

        The original bytes are kept up to the policy's bound (beyond it: digest, length and
        coordinates). A record the broker still refuses is sent again without them; if that
        fails too, the failure is logged and counted and the batch goes on, so that one message
        can never hold its partition. Only infrastructure failures (Kafka away) are retried.
        """
        if not rejections:
            return
        now = self._clock.now()
        events = []
        for rejection in rejections:
            message = rejection.message
            self._metrics.dead_lettered.labels(self._service, rejection.reason).inc()
            subject = complaint_id(message)
            letter = bounded_letter(
                service=self._service,
                reason=rejection.reason,
                detail=rejection.detail,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=text_key(message.key),
                payload=message.value,
                attempts=attempts,
                payload_bound=self._payload_bound,
            )
            events.append(
                MessageDeadLettered.build(
                    data=letter,
                    subject=subject,
                    source=f"/complaints/{self._service}",
                    time=now,
                    cause=f"{message.topic}/{message.partition}/{message.offset}",
                )
            )
            with correlated(subject):
                log.warning("dead-lettered", extra={"fields": _where(letter)})
        await asyncio.gather(*(self._publish_letter(event) for event in events))

    async def _publish_letter(self, event: MessageDeadLettered) -> None:
        """Publish one record, then a payload-free copy; what still fails is logged and counted."""
        error = ""
        for candidate in (event, event.model_copy(update={"data": without_payload(event.data)})):
            try:
                await self._until_infrastructure_answers_publish(candidate)
            except Exception as exc:  # anything but Kafka being away: never hold the batch
                error = type(exc).__name__
            else:
                return
        self._metrics.dead_letter_failures.labels(self._service, error).inc()
        with correlated(event.subject):
            log.error(
                "dead-letter record could not be published; the message stays in its topic",
                extra={"fields": {**_where(event.data), "error": error}},
            )

    async def _until_infrastructure_answers_publish(self, event: MessageDeadLettered) -> None:
        async def publish(_: Sequence[object]) -> Sequence[Rejection]:
            await publish_all(self._broker, [event])
            return []

        await self._until_infrastructure_answers((), publish)


def _where(letter: DeadLetter) -> dict[str, object]:
    """Log fields of a dead letter: reason and coordinates, never the bytes."""
    return {
        "reason": letter.reason,
        "topic": letter.original_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "payload_length": letter.payload_length,
        "payload_omitted": letter.payload_omitted,
    }
