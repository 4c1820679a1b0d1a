"""Kafka subscriptions of the classifier service: the bodies each takes, the use case, done."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from classifier.regrading import Regrading, is_regrade
from classifier.service import Classification
from contracts import CaseActionTaken, ComplaintNormalized, Topic
from servicekit.bodies import Body
from servicekit.delivery import DeliveryPolicy
from servicekit.settings import KafkaSettings
from servicekit.signing import Verifier
from servicekit.subscriptions import On, subscribe

GROUP = "classifier"
REGRADE_GROUP = "classifier-regrade"
"""Its own group on the lifecycle topic: regrades never wait behind (or hold up) new complaints."""
NORMALIZED = Body.of(ComplaintNormalized)
REGRADES = Body.of(CaseActionTaken, plausible=False, select=is_regrade)
"""Only `regraded` actions: the rest of the topic is the SLA's to judge (and dead-letter)."""


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
    subscribe(
        broker,
        group=GROUP,
        settings=settings,
        policy=policy,
        handlers={
            Topic.NORMALIZED: On(
                NORMALIZED,
                classification.take,
                "Classify normalised complaints against their history and publish the decisions.",
            )
        },
    )
    subscribe(
        broker,
        group=REGRADE_GROUP,
        settings=settings,
        policy=policy,
        verifier=verifier,
        handlers={
            Topic.LIFECYCLE: On(
                REGRADES,
                regrading.take,
                "Record staff regrades and put the corrected decision on the stored one.",
            )
        },
    )
