"""Kafka subscriptions of the notifier."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from notifier.service import Notifier
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection
from servicekit.settings import KafkaSettings
from servicekit.signing import Verifier
from servicekit.subscriptions import subscribe

GROUP = "notifier"


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

    async def on_complaints_classified(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Acknowledge enquiries and routed reports; tell leadership, media, security."""
        return await notifier.on_classified(messages)

    async def on_sla_changed(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Acknowledge complaints; warn and escalate to staff; tell customers of delays."""
        return await notifier.on_sla(messages)

    async def on_case_lifecycle(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Tell the assigned handler; give the customer the result or a delay notice."""
        return await notifier.on_lifecycle(messages)

    async def on_incident_changed(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Tell operations of incidents; give each affected customer one notice."""
        return await notifier.on_incidents(messages)

    subscribe(
        broker,
        group=GROUP,
        settings=settings,
        policy=policy,
        verifier=verifier,
        handlers={
            Topic.CLASSIFIED: on_complaints_classified,
            Topic.SLA: on_sla_changed,
            Topic.LIFECYCLE: on_case_lifecycle,
            Topic.INCIDENTS: on_incident_changed,
        },
    )
