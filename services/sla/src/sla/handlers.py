"""Kafka subscriptions of the SLA service."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from servicekit.delivery import DeliveryPolicy, Inbound, Rejection
from servicekit.settings import KafkaSettings
from servicekit.signing import Verifier
from servicekit.subscriptions import subscribe
from sla.casework.actions import ApplyCaseAction
from sla.casework.incidents import ResolveIncidentMembers
from sla.casework.receipts import RecordReceipt
from sla.casework.start import StartClocks

GROUP = "sla"


def register(
    broker: KafkaBroker,
    *,
    start: StartClocks,
    actions: ApplyCaseAction,
    receipts: RecordReceipt,
    incidents: ResolveIncidentMembers,
    policy: DeliveryPolicy,
    settings: KafkaSettings,
    verifier: Verifier,
) -> None:
    """Subscribe the SLA service to classified complaints, staff actions, receipts and
    incidents (a closed incident resolves its members; only the classifier's signature counts).

    Receipts count only when the notifier signed them, and staff actions and state changes
    only when this service did (its case API is the one way staff act): anything else on those
    topics is dead-lettered (`unsigned`, `wrong_signer`, `forged_signature`), changing nothing.
    """

    async def on_complaints_classified(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Start every clock of newly classified complaints."""
        return await start.on_classified(messages)

    async def on_notifications_sent(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Meet the acknowledge clock when the customer's acknowledgement is delivered."""
        return await receipts.on_receipts(messages)

    async def on_complaints_lifecycle(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Apply staff actions: move the case, pause / resume / stop / start its clocks."""
        return await actions.on_lifecycle(messages)

    async def on_complaints_incidents(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        """Resolve the open member cases of closed incidents."""
        return await incidents.on_incidents(messages)

    subscribe(
        broker,
        group=GROUP,
        settings=settings,
        policy=policy,
        verifier=verifier,
        handlers={
            Topic.INCIDENTS: on_complaints_incidents,
            Topic.CLASSIFIED: on_complaints_classified,
            Topic.NOTIFICATION_SENT: on_notifications_sent,
            Topic.LIFECYCLE: on_complaints_lifecycle,
        },
    )
