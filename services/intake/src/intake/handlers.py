"""Kafka subscriptions of the intake service: translate, call the use-case, done."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from intake.service import Intake
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection
from servicekit.settings import KafkaSettings
from servicekit.subscriptions import subscribe

GROUP = "intake"


def register(
    broker: KafkaBroker, *, intake: Intake, policy: DeliveryPolicy, settings: KafkaSettings
) -> None:
    """Subscribe intake to the raw topic."""

    async def on_raw_complaints(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Validate, normalise and store raw channel messages; publish the accepted ones."""
        return await intake.take(messages)

    subscribe(
        broker,
        group=GROUP,
        settings=settings,
        policy=policy,
        handlers={Topic.RAW: on_raw_complaints},
    )
