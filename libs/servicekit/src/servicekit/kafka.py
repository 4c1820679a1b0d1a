"""Kafka broker, topics and publishing, set up the same way in every service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry

from contracts import PARTITIONS, RETENTION_DAYS, Event, Topic
from servicekit.settings import KafkaSettings

log = logging.getLogger(__name__)


def _security(settings: KafkaSettings) -> Any:
    if not settings.security_protocol.startswith("SASL"):
        return None
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
    cls = SASLScram512 if settings.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    use_ssl = settings.security_protocol == "SASL_SSL"
    return cls(
        username=settings.sasl_username or "",
        password=password,
        use_ssl=use_ssl,
        ssl_context=ssl.create_default_context() if use_ssl else None,
    )


def admin_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    """Connection arguments for a plain aiokafka client built from the settings."""
    kwargs: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers}
    if settings.security_protocol.startswith("SASL"):
        kwargs |= {
            "security_protocol": settings.security_protocol,
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": (
                settings.sasl_password.get_secret_value() if settings.sasl_password else None
            ),
        }
    return kwargs


def make_broker(
    *, settings: KafkaSettings, service: str, registry: CollectorRegistry
) -> KafkaBroker:
    """A broker whose producer waits for all replicas and never duplicates on retry."""
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=f"complaints-{service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        compression_type=None,
        graceful_timeout=20.0,
        security=_security(settings),
        middlewares=(KafkaPrometheusMiddleware(registry=registry, app_name=service),),
        log_level=logging.DEBUG,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[Topic] = tuple(Topic)) -> None:
    """Create missing topics with their partitions and retention (idempotent)."""
    admin = AIOKafkaAdminClient(**admin_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=topic.value,
                num_partitions=PARTITIONS[topic],
                replication_factor=1,
                topic_configs={"retention.ms": str(RETENTION_DAYS[topic] * 86_400_000)},
            )
            for topic in topics
            if topic.value not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # a replica created it first
                await admin.create_topics(missing)
            log.info("created topics", extra={"fields": {"topics": [t.name for t in missing]}})
    finally:
        await admin.close()


def encode(event: Event) -> bytes:
    """The wire form of an event: CloudEvents structured-mode JSON."""
    return event.model_dump_json(exclude_none=False).encode()


async def publish_all(broker: KafkaBroker, events: Sequence[Event]) -> None:
    """Publish events concurrently, keyed by complaint id; returns once all are acknowledged."""
    if not events:
        return
    await asyncio.gather(
        *(
            broker.publish(
                encode(event),
                topic=event.topic.value,
                key=event.key(),
                headers={"ce_type": event.type, "content-type": "application/cloudevents+json"},
            )
            for event in events
        )
    )
