"""One way a service subscribes its batch handlers: by topic, in its group, signed where owned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from faststream.kafka import KafkaBroker

from contracts import Topic
from servicekit.delivery import BatchHandler, DeliveryPolicy, Inbound, Rejection, consume
from servicekit.settings import KafkaSettings
from servicekit.signing import WRITER, Verifier


def subscribe(
    broker: KafkaBroker,
    *,
    group: str,
    settings: KafkaSettings,
    policy: DeliveryPolicy,
    handlers: Mapping[Topic, tuple[BatchHandler, str]],
    verifier: Verifier | None = None,
) -> None:
    """Subscribe each (handler, what it does) to its topic in `group`, in the mapping's order;
    on a topic one service owns (signing.WRITER) only its signed records reach the handler."""
    for topic, (use_case, what) in handlers.items():
        owned = handler = described(use_case, what)
        if topic in WRITER:
            if verifier is None:
                raise ValueError(f"{topic.value} counts only {WRITER[topic]}'s signed records")
            owned = verifier.only_from(WRITER[topic], handler)
        consume(broker, topic=topic, group=group, settings=settings, policy=policy, handler=owned)


def described(use_case: BatchHandler, what: str) -> BatchHandler:
    """The use case as a handler whose docstring (the AsyncAPI description) says `what`."""

    async def handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        return await use_case(messages)

    handler.__doc__ = what
    return handler
