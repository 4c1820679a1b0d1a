"""A service's AsyncAPI 3.0 document, written by FastStream from the service's own broker.

One *receive* operation per subscriber (consumer group, what its use case does), its payload
the contract type the subscriber declares (`servicekit.bodies.Body`, documented by FastStream from
the handler's `Batch[…]` argument); one *send* operation per topic the service publishes, declared
on the broker here from the service's list (`<service>.docs.PUBLISHES`); schemas are the
contracts' pydantic models in serialisation mode, partitions and retention come from
`contracts.topics`. Each service's `docs` module declares a `ServiceDocs`
(`service_docs`) that calls `document`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.specification import AsyncAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contracts import COMPACTED, MESSAGES_FOR_TOPIC, PARTITIONS, RETENTION_DAYS, Topic
from contracts.schemas import schema_name

SERVER = "development"
COMPLAINT_KEY = "the complaint id (e.g. `CP20261124-7K3M9Q2XAB`): one complaint stays in order"
KEYS: dict[Topic, str] = {
    Topic.RAW: "`<channel>:<external reference>` (what `POST /complaints` uses; channel adapters"
    " should key the same way), so one channel's reference stays in order",
    Topic.DLQ: "the complaint id when the failed message had one (`CP…`), else no key",
    Topic.INCIDENTS: "the incident id (e.g. `network/no_signal|*|20261124T0205+0000`): one"
    " incident stays in order",
}
"""Message keys that are not simply the complaint id."""

Published = tuple[type[BaseModel], str]
"""A message model a service publishes, and a note on when (blank: nothing to add)."""


@dataclass(frozen=True)
class Subscription:
    """One consumer of a topic: a service's subscriber in its consumer group."""

    service: str
    group: str
    topic: Topic
    description: str


def topic_of(model: type[BaseModel]) -> Topic:
    """The topic a message model travels on."""
    return next(topic for topic, models in MESSAGES_FOR_TOPIC.items() if model in models)


def kafka_broker(app: AsgiFastStream) -> KafkaBroker:
    """The app's Kafka broker (a service has no other)."""
    if not isinstance(app.broker, KafkaBroker):
        raise TypeError(f"expected a KafkaBroker, got {type(app.broker).__name__}")
    return app.broker


def kafka_subscribers(broker: KafkaBroker) -> list[LogicSubscriber[Any]]:
    """The broker's Kafka subscribers (a service registers nothing else)."""
    found = [s for s in broker.subscribers if isinstance(s, LogicSubscriber)]
    if len(found) != len(broker.subscribers):
        raise TypeError("a subscriber that is not a Kafka subscriber")
    return found


def subscriptions(service: str, broker: KafkaBroker) -> list[Subscription]:
    """The broker's subscribers as (group, topic, what the handler does)."""
    return [
        Subscription(service, sub.group_id or "", Topic(name), sub.specification.description or "")
        for sub in kafka_subscribers(broker)
        for name in sub.topic_names
    ]


def _by_topic(publishes: Sequence[Published]) -> dict[Topic, list[Published]]:
    by_topic: dict[Topic, list[Published]] = {}
    for model, note in publishes:
        by_topic.setdefault(topic_of(model), []).append((model, note))
    return by_topic


def declare_publishers(service: str, broker: KafkaBroker, publishes: Sequence[Published]) -> None:
    """One publisher per topic the service sends to, declared on its broker for the document."""
    for topic, models in _by_topic(publishes).items():
        described = [schema_name(m) + (f" ({note})" if note else "") for m, note in models]
        broker.publisher(
            topic.value,
            title=f"{service}:{topic.value}:publish",
            description=f"Publishes {', '.join(described)}.",
        )


def _payload(models: Sequence[type[BaseModel]], refs: Mapping[Any, Any]) -> dict[str, Any]:
    options = [dict(refs[(model, "serialization")]) for model in models]
    return options[0] if len(options) == 1 else {"oneOf": options}


def _kafka_binding(**fields: Any) -> dict[str, Any]:
    return {"kafka": {**fields, "bindingVersion": "0.4.0"}}


def received_models(
    spec: Mapping[str, Any], message: Mapping[str, Any], topic: Topic
) -> list[type[BaseModel]]:
    """The contract models FastStream documents a subscriber's records as: the items of its
    batch payload (`Batch[<contract type>]`), each one of the topic's models."""
    schemas = spec.get("components", {}).get("schemas", {})
    batch = schemas[message["payload"]["$ref"].rsplit("/", 1)[-1]]
    items = batch["items"]
    names = [ref["$ref"].rsplit("/", 1)[-1] for ref in items.get("oneOf", [items])]
    on_topic = {model.__name__: model for model in MESSAGES_FOR_TOPIC[topic]}
    unknown = sorted(set(names) - on_topic.keys())
    if unknown:
        raise ValueError(f"{topic.value} carries no {', '.join(unknown)}")
    return [on_topic[name] for name in names]


def with_contracts(
    spec: dict[str, Any], service: str, groups: Mapping[str, str], publishes: Sequence[Published]
) -> dict[str, Any]:
    """Put the contract models in as payloads (the records each subscriber declares, as
    FastStream generated them), the topics' partitions, retention and keys, and the consumer
    groups into FastStream's document."""
    published = {t: [m for m, _ in ms] for t, ms in _by_topic(publishes).items()}
    operations: dict[str, Any] = spec.get("operations", {})
    channels: dict[str, Any] = spec.get("channels", {})
    messages: dict[str, Any] = spec.setdefault("components", {}).setdefault("messages", {})
    plans: list[tuple[str, Topic, list[type[BaseModel]]]] = []
    for name, operation in operations.items():
        key = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        topic = Topic(channels[key]["address"])
        if operation["action"] == "send":
            plans.append((key, topic, published[topic]))
            continue
        [ref] = channels[key]["messages"].values()
        message = messages[ref["$ref"].rsplit("/", 1)[-1]]
        plans.append((key, topic, received_models(spec, message, topic)))
        group = {"type": "string", "enum": [groups[name]]}
        operation["bindings"] = _kafka_binding(groupId=group)
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
            key_schema = {"type": "string", "description": KEYS.get(topic, COMPLAINT_KEY)}
            message["bindings"] = _kafka_binding(key=key_schema)
            message.pop("correlationId", None)  # the pipeline correlates on the complaint id
    spec["servers"][SERVER]["description"] = (
        f"The local stack; elsewhere set {service.upper()}_KAFKA__BOOTSTRAP_SERVERS."
    )
    return spec


def specification(
    app: AsgiFastStream, *, service: str, description: str, publishes: Sequence[Published]
) -> AsyncAPI:
    """FastStream's AsyncAPI factory for the app, its publishers declared (`faststream docs gen`
    reads it as the app's `schema`)."""
    broker = kafka_broker(app)
    declare_publishers(service, broker, publishes)
    return AsyncAPI(
        broker,
        title=f"complaints-{service}",
        version=version(f"complaints-{service}"),
        description=description,
    )


def document(
    app: AsgiFastStream, *, service: str, description: str, publishes: Sequence[Published]
) -> dict[str, Any]:
    """The service's AsyncAPI document: FastStream's, with the contracts put in."""
    broker = kafka_broker(app)
    groups = {s.specification.name: s.group_id or "" for s in kafka_subscribers(broker)}
    factory = specification(app, service=service, description=description, publishes=publishes)
    spec = factory.to_specification().to_jsonable()
    return with_contracts(spec, service, groups, publishes)
