"""Kafka subscriptions of the intake service: translate, call the use-case, done."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from contracts import Topic
from intake.service import Intake
from servicekit.delivery import BatchHandler, DeliveryPolicy
from servicekit.settings import KafkaSettings
from servicekit.subscriptions import subscribe

GROUP = "intake"


def register(
    broker: KafkaBroker, *, intake: Intake, policy: DeliveryPolicy, settings: KafkaSettings
) -> None:
    """Subscribe intake to the raw topic."""
    handlers: dict[Topic, tuple[BatchHandler, str]] = {
        Topic.RAW: (
            intake.take,
            "Validate, normalise and store raw channel messages; publish the accepted ones.",
        ),
    }
    subscribe(broker, group=GROUP, settings=settings, policy=policy, handlers=handlers)
