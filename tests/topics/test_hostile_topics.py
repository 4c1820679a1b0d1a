"""Hostile input on every service's topics, through its real subscriptions on a test broker.

Each corpus entry travels in one consumed batch between two good messages of its topic: it is
dead-lettered with its reason (and nothing else of the batch is), or handled as its `expect`
says with its values kept inert, and the good messages are handled either way. What each service
must show afterwards is its target's `verdict` (tests/_builders/hostile_*.py).
"""

from __future__ import annotations

import pytest
from _pytest.mark.structures import ParameterSet

from contracts import Topic
from servicekit.asyncapi import kafka_broker, subscriptions
from tests._builders.apps import BUILDERS
from tests._builders.hostile import Entry, assert_dead_letters, payload
from tests._builders.hostile_classifier import ClassifierTarget
from tests._builders.hostile_intake import IntakeTarget
from tests._builders.hostile_notifier import NotifierTarget
from tests._builders.hostile_sla import SlaTarget
from tests._builders.topic_target import TopicTarget

TARGETS: tuple[TopicTarget, ...] = (
    IntakeTarget(),
    ClassifierTarget(),
    SlaTarget(),
    NotifierTarget(),
)
ELSEWHERE: dict[str, set[Topic]] = {
    # tests/classifier/test_regrade.py (the regrade consumer: other actions, malformed events,
    # unknown complaints) until a classifier lifecycle target joins TARGETS.
    "classifier": {Topic.LIFECYCLE},
}


def cases() -> list[ParameterSet]:
    """Every (service, entry) pair, named `<service>-<entry id>`."""
    return [
        pytest.param(target, entry, id=f"{target.service}-{entry['id']}")
        for target in TARGETS
        for entry in target.entries()
    ]


@pytest.mark.usefixtures("no_retry_sleeps")
@pytest.mark.parametrize(("target", "entry"), cases())
async def test_a_hostile_message_between_good_ones(
    target: TopicTarget, entry: Entry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with target.running(monkeypatch) as service:
        await target.prepare(service, entry)
        hostile = payload(entry, target.bases)
        first, second = target.good(entry)
        await service.rig.batch(target.topic(entry), [first, hostile, second])
        assert_dead_letters(entry, hostile, service.rig.dead_letters())
        await target.verdict(service, entry, hostile)


def test_every_subscribed_topic_has_a_hostile_corpus() -> None:
    subscribed = {
        (service, sub.topic)
        for service, build in BUILDERS.items()
        for sub in subscriptions(service, kafka_broker(build()))
    }
    covered = {(t.service, t.topic(e)) for t in TARGETS for e in t.entries()}
    covered |= {(service, topic) for service, topics in ELSEWHERE.items() for topic in topics}
    assert subscribed - covered == set(), "a subscription no hostile entry reaches"
    assert covered - subscribed == set(), "an entry on a topic the service does not read"
