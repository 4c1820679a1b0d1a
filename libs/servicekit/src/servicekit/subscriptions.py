"""One way a service subscribes its use cases: by topic, in its group, typed, signed where owned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from contracts import Topic
from servicekit.bodies import Batch, Body, Handler, Verify
from servicekit.delivery import DeliveryPolicy
from servicekit.polling import long_poll
from servicekit.settings import KafkaSettings
from servicekit.signing import WRITER, Verifier

T = TypeVar("T")
RAW: Body[bytes] = Body(bytes, "record", bytes, plausible=False)
"""Records handed on as their bytes (a subscriber that declares no contract type)."""


@dataclass(frozen=True)
class On(Generic[T]):
    """A use case on one topic: the bodies it takes, the use case, what it does (documented)."""

    body: Body[T]
    handler: Handler[T]
    what: str


def subscribe(
    broker: KafkaBroker,
    *,
    group: str,
    settings: KafkaSettings,
    policy: DeliveryPolicy,
    handlers: Mapping[Topic, On[Any]],
    verifier: Verifier | None = None,
) -> None:
    """Subscribe each use case to its topic in `group`, in the mapping's order; each batch is
    decoded once into the declared bodies, and on a topic one service owns (signing.WRITER) only
    its signed records are decoded (the others are refused: dead-lettered)."""
    for topic, on in handlers.items():
        verify = None
        if topic in WRITER:
            if verifier is None:
                raise ValueError(f"{topic.value} counts only {WRITER[topic]}'s signed records")
            verify = verifier.checker(WRITER[topic])
        consume(
            broker,
            topic=topic,
            group=group,
            settings=settings,
            policy=policy,
            handler=on.handler,
            body=on.body,
            verify=verify,
            description=on.what,
        )


def consume(
    broker: KafkaBroker,
    *,
    topic: Topic,
    group: str,
    settings: KafkaSettings,
    policy: DeliveryPolicy,
    handler: Handler[T],
    body: Body[T] | None = None,
    verify: Verify | None = None,
    description: str | None = None,
) -> None:
    """Subscribe `handler` to `topic` in consumer group `group`, batch-wise, commit-after-work:
    FastStream decodes each batch with `body`'s decoder (the records' bytes when none is given)
    and documents the records as `body`'s contract type."""
    declared = body or cast(Body[T], RAW)

    async def on_batch(batch: Batch[T]) -> None:
        await policy.run_batch(batch, handler)

    generic: Any = Batch  # subscripted with a runtime value: what FastStream documents
    on_batch.__annotations__["batch"] = generic[declared.schema]
    subscriber = broker.subscriber(
        topic.value,
        group_id=group,
        batch=True,
        max_records=settings.max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=600_000,
        listener=policy.assignments.listener(f"{group}:{topic.value}"),
        decoder=declared.decoder(verify),
        title=f"{group}:{topic.value}",
        description=description if description is not None else handler.__doc__,
    )
    subscriber(on_batch)
    long_poll(subscriber, settings.poll_wait_ms)
