"""One way a service subscribes its batch handlers: by topic, in its group, signed where owned."""

from __future__ import annotations

from collections.abc import Mapping

from faststream.kafka import KafkaBroker

from contracts import Topic
from servicekit.delivery import BatchHandler, DeliveryPolicy, consume
from servicekit.settings import KafkaSettings
from servicekit.signing import WRITER, Verifier


def subscribe(
    broker: KafkaBroker,
    *,
    group: str,
    settings: KafkaSettings,
    policy: DeliveryPolicy,
    handlers: Mapping[Topic, BatchHandler],
    verifier: Verifier | None = None,
) -> None:
    """Subscribe each handler to its topic in `group`, in the mapping's order; on a topic one
    service owns (signing.WRITER) only that service's signed records reach the handler."""
    for topic, handler in handlers.items():
        owned = handler
        if topic in WRITER:
            if verifier is None:
                raise ValueError(f"{topic.value} counts only {WRITER[topic]}'s signed records")
            owned = verifier.only_from(WRITER[topic], handler)
        consume(broker, topic=topic, group=group, settings=settings, policy=policy, handler=owned)
