"""Kafka subscriptions of the intake service: translate, call the use-case, done."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from intake.service import Intake
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, consume
from servicekit.settings import KafkaSettings

GROUP = "intake"


def register(
    broker: KafkaBroker, *, intake: Intake, policy: DeliveryPolicy, settings: KafkaSettings
) -> None:
    """Subscribe intake to the raw topic."""

    async def on_raw_complaints(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Validate, normalise and store raw channel messages; publish the accepted ones."""
        return await intake.take(messages)

    consume(
        broker,
        topic=Topic.RAW,
        group=GROUP,
        settings=settings,
        policy=policy,
        handler=on_raw_complaints,
    )
