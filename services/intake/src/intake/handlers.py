"""Kafka subscriptions of the intake service: translate, call the use-case, done."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from contracts import RawComplaintSubmitted, Topic
from intake.service import Intake
from servicekit.bodies import Body
from servicekit.delivery import DeliveryPolicy
from servicekit.settings import KafkaSettings
from servicekit.subscriptions import On, subscribe

GROUP = "intake"
RAW = Body.raw(RawComplaintSubmitted)
"""Channel messages in their own formats: intake's domain reads each one (`process_raw`)."""


def register(
    broker: KafkaBroker, *, intake: Intake, policy: DeliveryPolicy, settings: KafkaSettings
) -> None:
    """Subscribe intake to the raw topic."""
    handlers: dict[Topic, On[bytes]] = {
        Topic.RAW: On(
            RAW,
            intake.take,
            "Validate, normalise and store raw channel messages; publish the accepted ones.",
        ),
    }
    subscribe(broker, group=GROUP, settings=settings, policy=policy, handlers=handlers)
