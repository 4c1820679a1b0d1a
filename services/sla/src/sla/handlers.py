"""Kafka subscriptions of the SLA service."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from contracts import (
    ComplaintClassified,
    IncidentChanged,
    LifecycleEvent,
    NotificationSent,
    Topic,
)
from servicekit.bodies import Body
from servicekit.delivery import DeliveryPolicy
from servicekit.settings import KafkaSettings
from servicekit.signing import Verifier
from servicekit.subscriptions import On, subscribe
from sla.casework.actions import ApplyCaseAction
from sla.casework.incidents import ResolveIncidentMembers
from sla.casework.receipts import RecordReceipt
from sla.casework.start import StartClocks

GROUP = "sla"
INCIDENTS = Body.of(IncidentChanged, plausible=False)
CLASSIFIED = Body.of(ComplaintClassified)
RECEIPTS = Body.of(NotificationSent)
LIFECYCLE = Body.union(LifecycleEvent, "lifecycle event", plausible=False)
"""Times of staff actions are judged per case (`implausible_time` and `backdated` refusals)."""


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
    handlers: dict[Topic, On[Any]] = {
        Topic.INCIDENTS: On(
            INCIDENTS,
            incidents.on_incidents,
            "Resolve the open member cases of closed incidents.",
        ),
        Topic.CLASSIFIED: On(
            CLASSIFIED,
            start.on_classified,
            "Start every clock of newly classified complaints.",
        ),
        Topic.NOTIFICATION_SENT: On(
            RECEIPTS,
            receipts.on_receipts,
            "Meet the acknowledge clock when the customer's acknowledgement is delivered.",
        ),
        Topic.LIFECYCLE: On(
            LIFECYCLE,
            actions.on_lifecycle,
            "Apply staff actions: move the case, pause / resume / stop / start its clocks.",
        ),
    }
    subscribe(
        broker, group=GROUP, settings=settings, policy=policy, verifier=verifier, handlers=handlers
    )
