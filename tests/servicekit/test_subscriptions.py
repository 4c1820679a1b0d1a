"""servicekit.subscriptions.subscribe: each topic in the group, signed where one service owns it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from contracts import Topic
from servicekit.asyncapi import subscriptions
from servicekit.delivery import Inbound, Rejection
from servicekit.settings import KafkaSettings
from servicekit.signing import SigningSettings, Verifier
from servicekit.subscriptions import RAW, On, subscribe
from tests._builders.delivery import policy


async def on_batch(messages: Sequence[Inbound]) -> Sequence[Rejection]:
    """Handle nothing."""
    return []


def test_every_topic_is_subscribed_in_the_group_with_what_it_does() -> None:
    broker = KafkaBroker()
    delivery, _ = policy(CollectorRegistry())
    verifier = Verifier.of(SigningSettings(dev_keys=True))
    handlers = {
        Topic.CLASSIFIED: On(RAW, on_batch, "Classified."),
        Topic.LIFECYCLE: On(RAW, on_batch, "Signed lifecycle."),
    }
    subscribe(
        broker,
        group="sla",
        settings=KafkaSettings(),
        policy=delivery,
        verifier=verifier,
        handlers=handlers,
    )
    # the broker keeps its subscribers in a set: their order is not observable
    found = sorted((s.group, s.topic, s.description) for s in subscriptions("sla", broker))
    assert found == [
        ("sla", Topic.CLASSIFIED, "Classified."),
        ("sla", Topic.LIFECYCLE, "Signed lifecycle."),
    ]


def test_an_owned_topic_without_a_verifier_is_refused() -> None:
    delivery, _ = policy(CollectorRegistry())
    with pytest.raises(ValueError, match="sla's signed records"):
        subscribe(
            KafkaBroker(),
            group="notifier",
            settings=KafkaSettings(),
            policy=delivery,
            handlers={Topic.SLA: On(RAW, on_batch, "SLA events.")},
        )
