"""The services' AsyncAPI 3.0 documents, written by FastStream from each app's broker.

One *receive* operation per subscription (consumer group, the handler's docstring); one *send*
operation per topic a service publishes (`catalogue_facts.PUBLISHES`); payloads are the contracts'
pydantic models, partitions and retention come from `contracts.topics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import version
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from complaints_cli.catalogue_facts import (
    COMPLAINT_KEY,
    KEYS,
    PUBLISH_NOTES,
    PUBLISHES,
    SERVER,
    SERVICES,
    ServiceEntry,
    Subscription,
    topic_of,
)
from complaints_cli.service_apps import BUILDERS
from contracts import COMPACTED, MESSAGES_FOR_TOPIC, PARTITIONS, RETENTION_DAYS, Topic
from contracts.schemas import schema_name


def kafka_subscribers(broker: KafkaBroker) -> list[LogicSubscriber[Any]]:
    """The broker's Kafka subscribers (a service registers nothing else)."""
    found = [s for s in broker.subscribers if isinstance(s, LogicSubscriber)]
    if len(found) != len(broker.subscribers):
        raise TypeError("a subscriber that is not a Kafka subscriber")
    return found


def subscriptions(service: str, broker: KafkaBroker) -> list[Subscription]:
    """The broker's subscribers as (group, topic, what the handler does)."""
    return [
        Subscription(
            service,
            subscriber.group_id or "",
            Topic(name),
            subscriber.specification.description or "",
        )
        for subscriber in kafka_subscribers(broker)
        for name in subscriber.topic_names
    ]


def _published(service: str) -> dict[Topic, list[type[BaseModel]]]:
    by_topic: dict[Topic, list[type[BaseModel]]] = {}
    for model in PUBLISHES[service]:
        by_topic.setdefault(topic_of(model), []).append(model)
    return by_topic


def _declare_publishers(service: str, broker: KafkaBroker) -> None:
    """Documentation-only publishers (never started) for what the service sends."""
    for topic, models in _published(service).items():
        notes = [PUBLISH_NOTES.get((service, m), "") for m in models]
        described = [
            f"{schema_name(m)}" + (f" ({note})" if note else "")
            for m, note in zip(models, notes, strict=True)
        ]
        broker.publisher(
            topic.value,
            title=f"{service}:{topic.value}:publish",
            description=f"Publishes {', '.join(described)}.",
        )


def _payload(models: Sequence[type[BaseModel]], refs: Mapping[Any, Any]) -> dict[str, Any]:
    options = [dict(refs[(model, "serialization")]) for model in models]
    return options[0] if len(options) == 1 else {"oneOf": options}


def _key_schema(topic: Topic) -> dict[str, Any]:
    return {"type": "string", "description": KEYS.get(topic, COMPLAINT_KEY)}


def with_contracts(spec: dict[str, Any], service: str, groups: Mapping[str, str]) -> dict[str, Any]:
    """Put the contract models in as payloads, the topics' partitions, retention and keys, and
    the consumer groups into FastStream's document (its subscribers take raw batches)."""
    published = _published(service)
    operations: dict[str, Any] = spec.get("operations", {})
    channels: dict[str, Any] = spec.get("channels", {})
    messages: dict[str, Any] = spec.setdefault("components", {}).setdefault("messages", {})
    plans: list[tuple[str, Topic, list[type[BaseModel]]]] = []
    for name, operation in operations.items():
        key = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        topic = Topic(channels[key]["address"])
        sending = operation["action"] == "send"
        models = published[topic] if sending else list(MESSAGES_FOR_TOPIC[topic])
        plans.append((key, topic, models))
        if not sending:
            operation["bindings"] = {
                "kafka": {
                    "groupId": {"type": "string", "enum": [groups[name]]},
                    "bindingVersion": "0.4.0",
                }
            }
    every = sorted({m for _, _, models in plans for m in models}, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(m, "serialization") for m in every], ref_template="#/components/schemas/{model}"
    )
    spec["components"]["schemas"] = dict(sorted(top.get("$defs", {}).items()))
    for key, topic, models in plans:
        channel = channels[key]
        channel["bindings"]["kafka"] |= {
            "partitions": PARTITIONS[topic],
            "topicConfiguration": (
                {"cleanup.policy": ["compact"]}
                if topic in COMPACTED
                else {"retention.ms": RETENTION_DAYS[topic] * 86_400_000}
            ),
        }
        for ref in channel["messages"].values():
            message = messages[ref["$ref"].rsplit("/", 1)[-1]]
            message["payload"] = _payload(models, refs)
            message["contentType"] = (
                "application/json" if topic is Topic.RAW else "application/cloudevents+json"
            )
            message["bindings"] = {"kafka": {"key": _key_schema(topic), "bindingVersion": "0.4.0"}}
            message.pop("correlationId", None)  # the pipeline correlates on the complaint id
    spec["servers"][SERVER]["description"] = (
        f"The local stack; elsewhere set {service.upper()}_KAFKA__BOOTSTRAP_SERVERS."
    )
    return spec


def describe(service: str) -> ServiceEntry:
    """Build the service's app and generate its AsyncAPI document."""
    from faststream.specification import AsyncAPI

    app = BUILDERS[service]()
    broker = app.broker
    if not isinstance(broker, KafkaBroker):
        raise TypeError(f"{service}: expected a KafkaBroker, got {type(broker).__name__}")
    subs = subscriptions(service, broker)
    groups = {s.specification.name: s.group_id or "" for s in kafka_subscribers(broker)}
    _declare_publishers(service, broker)
    spec = AsyncAPI(
        broker,
        title=f"complaints-{service}",
        version=version(f"complaints-{service}"),
        description=SERVICES[service],
    ).to_specification()
    document = with_contracts(spec.to_jsonable(), service, groups)
    return ServiceEntry(service, document, tuple(subs))
