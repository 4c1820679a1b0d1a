"""Kafka subscriptions of the notifier."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from notifier.service import Notifier
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, consume
from servicekit.settings import KafkaSettings

GROUP = "notifier"


def register(
    broker: KafkaBroker, *, notifier: Notifier, policy: DeliveryPolicy, settings: KafkaSettings
) -> None:
    """Subscribe the notifier to classifications and SLA events."""

    async def on_complaints_classified(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Acknowledge enquiries and routed reports."""
        return await notifier.on_classified(messages)

    async def on_sla_changed(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Acknowledge complaints; warn and escalate to staff."""
        return await notifier.on_sla(messages)

    consume(
        broker,
        topic=Topic.CLASSIFIED,
        group=GROUP,
        settings=settings,
        policy=policy,
        handler=on_complaints_classified,
    )
    consume(
        broker,
        topic=Topic.SLA,
        group=GROUP,
        settings=settings,
        policy=policy,
        handler=on_sla_changed,
    )
