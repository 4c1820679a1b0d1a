"""Kafka subscriptions of the classifier service."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from classifier.regrading import Regrading
from classifier.service import Classification
from contracts import Topic
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, consume
from servicekit.settings import KafkaSettings
from servicekit.signing import WRITER, Verifier

GROUP = "classifier"
REGRADE_GROUP = "classifier-regrade"
"""Its own group on the lifecycle topic: regrades never wait behind (or hold up) new complaints."""


def register(
    broker: KafkaBroker,
    *,
    classification: Classification,
    regrading: Regrading,
    policy: DeliveryPolicy,
    settings: KafkaSettings,
    verifier: Verifier,
) -> None:
    """Subscribe the classifier to normalised complaints and to staff regrades (those the
    SLA service's case API signed; others are dead-lettered)."""

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

    async def on_complaints_lifecycle(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Record staff regrades and put the corrected decision on the stored one."""
        return await regrading.take(messages)

    consume(
        broker,
        topic=Topic.LIFECYCLE,
        group=REGRADE_GROUP,
        settings=settings,
        policy=policy,
        handler=verifier.only_from(WRITER[Topic.LIFECYCLE], on_complaints_lifecycle),
    )
