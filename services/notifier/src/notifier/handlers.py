"""Kafka subscriptions of the notifier."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from contracts import ComplaintClassified, IncidentChanged, LifecycleEvent, SlaChanged, Topic
from notifier.service import Notifier
from servicekit.bodies import Body
from servicekit.delivery import DeliveryPolicy
from servicekit.settings import KafkaSettings
from servicekit.signing import Verifier
from servicekit.subscriptions import On, subscribe

GROUP = "notifier"
CLASSIFIED = Body.of(ComplaintClassified)
SLA = Body.of(SlaChanged)
LIFECYCLE = Body.union(LifecycleEvent, "lifecycle event")
INCIDENTS = Body.of(IncidentChanged)


def register(
    broker: KafkaBroker,
    *,
    notifier: Notifier,
    policy: DeliveryPolicy,
    settings: KafkaSettings,
    verifier: Verifier,
) -> None:
    """Subscribe the notifier to classifications, SLA events and accepted lifecycle actions.

    SLA events and lifecycle state changes are acted on only when the SLA service signed them
    (a forged state change must never text the customer); others are dead-lettered.
    """
    handlers: dict[Topic, On[Any]] = {
        Topic.CLASSIFIED: On(
            CLASSIFIED,
            notifier.on_classified,
            "Acknowledge enquiries and routed reports; tell leadership, media, security.",
        ),
        Topic.SLA: On(
            SLA,
            notifier.on_sla,
            "Acknowledge complaints; warn and escalate to staff; tell customers of delays.",
        ),
        Topic.LIFECYCLE: On(
            LIFECYCLE,
            notifier.on_lifecycle,
            "Tell the assigned handler; give the customer the result or a delay notice.",
        ),
        Topic.INCIDENTS: On(
            INCIDENTS,
            notifier.on_incidents,
            "Tell operations of incidents; give each affected customer one notice.",
        ),
    }
    subscribe(
        broker, group=GROUP, settings=settings, policy=policy, verifier=verifier, handlers=handlers
    )
