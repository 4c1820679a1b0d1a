"""Kafka subscriptions of the classifier service."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from classifier.service import Classification
from contracts import Topic
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, consume
from servicekit.settings import KafkaSettings

GROUP = "classifier"


def register(
    broker: KafkaBroker,
    *,
    classification: Classification,
    policy: DeliveryPolicy,
    settings: KafkaSettings,
) -> None:
    """Subscribe the classifier to normalised complaints."""

    async def on_complaints_normalized(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Classify normalised complaints against their history and publish the decisions."""
        return await classification.take(messages)

    consume(
        broker,
        topic=Topic.NORMALIZED,
        group=GROUP,
        settings=settings,
        policy=policy,
        handler=on_complaints_normalized,
    )
