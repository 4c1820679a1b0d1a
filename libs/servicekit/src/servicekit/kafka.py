"""Kafka broker, topics and publishing, set up the same way in every service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry

from contracts import PARTITIONS, Event, Topic
from contracts.topics import topic_config
from servicekit.settings import TLS_PROTOCOLS, KafkaSettings, ToolKafkaSettings
from servicekit.signing import Signer

log = logging.getLogger(__name__)

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of SSL and SASL_SSL (None for the plaintext protocols).

    It verifies the brokers' certificates and host names against `ssl_cafile` (only those CAs)
    or the system's CAs, and presents `ssl_certfile` when given.
    """
    if settings.security_protocol not in TLS_PROTOCOLS:
        return None
    cafile = str(settings.ssl_cafile) if settings.ssl_cafile else None
    context = ssl.create_default_context(cafile=cafile)
    if settings.ssl_certfile:
        context.load_cert_chain(
            settings.ssl_certfile,
            settings.ssl_keyfile,
            password=(
                settings.ssl_key_password.get_secret_value() if settings.ssl_key_password else None
            ),
        )
    return context


def _password(settings: KafkaSettings) -> str:
    return settings.sasl_password.get_secret_value() if settings.sasl_password else ""


def security(settings: KafkaSettings) -> BaseSecurity | None:
    """FastStream's form of the security settings (None: PLAINTEXT)."""
    context = ssl_context(settings)
    if settings.security_protocol == "PLAINTEXT":
        return None
    if settings.security_protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return _SASL[settings.sasl_mechanism](
        username=settings.sasl_username or "",
        password=_password(settings),
        ssl_context=context,
        use_ssl=context is not None,
    )


def client_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    """Connection arguments for any plain aiokafka client (admin, consumer, producer).

    Every aiokafka client the code builds goes through here, so each one honours the same
    security settings as the services' FastStream broker.
    """
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
    }
    if (context := ssl_context(settings)) is not None:
        kwargs["ssl_context"] = context
    if settings.security_protocol.startswith("SASL"):
        kwargs |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": _password(settings),
        }
    return kwargs


admin_kwargs = client_kwargs  # the earlier name


def tool_client_kwargs(bootstrap: str) -> dict[str, Any]:
    """`client_kwargs` for the `complaints` command and scripts: `bootstrap` plus the security
    settings of the environment's COMPLAINTS_KAFKA_* variables (`ToolKafkaSettings`)."""
    return client_kwargs(ToolKafkaSettings(bootstrap_servers=bootstrap))


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
        max_batch_size=settings.max_batch_bytes,
        compression_type=None,
        graceful_timeout=5.0,  # SIGTERM to exit within 10 s; an unfinished batch comes again
        security=security(settings),
        middlewares=(KafkaPrometheusMiddleware(registry=registry, app_name=service),),
        log_level=logging.DEBUG,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[Topic] = tuple(Topic)) -> None:
    """Create missing topics with their partitions and retention or compaction (idempotent)."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=topic.value,
                num_partitions=PARTITIONS[topic],
                replication_factor=1,
                topic_configs=topic_config(topic),
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


async def publish_all(
    broker: KafkaBroker, events: Sequence[Event], signer: Signer | None = None
) -> None:
    """Publish events keyed by complaint id (and signed, with a `signer`); returns once the
    broker acknowledged all of them.

    Each record goes straight to the broker's started aiokafka producer, and the batch waits on
    the sends' futures together: FastStream's publish path (a command object, its middlewares,
    one task per event) cost ~2x the producer's own work per record (ADR 0031). Where the
    broker has no aiokafka producer (FastStream's test broker), its own publish is used.
    """
    if not events:
        return
    producer = _producer(broker)
    if producer is None:
        await asyncio.gather(*(_publish(broker, event, signer) for event in events))
        return
    sends = []
    for event in events:
        body, topic, key = encode(event), event.topic.value, event.key()
        headers = [(k, v.encode()) for k, v in _headers(event, signer, topic, key, body).items()]
        sends.append(await producer.send(topic, body, key=key, headers=headers))
    await asyncio.gather(*sends)


def _producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The broker's started aiokafka producer (FastStream 0.7 keeps it in its producer state)."""
    config = getattr(broker, "config", None)  # absent on the tests' stand-in brokers
    state = getattr(getattr(config, "producer", None), "_producer", None)
    producer = getattr(state, "producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


def _headers(
    event: Event, signer: Signer | None, topic: str, key: bytes | None, body: bytes
) -> dict[str, str]:
    headers = {"ce_type": event.type, "content-type": "application/cloudevents+json"}
    if signer is not None:
        headers |= signer.headers(topic, key, body)
    return headers


async def _publish(broker: KafkaBroker, event: Event, signer: Signer | None) -> None:
    body, topic, key = encode(event), event.topic.value, event.key()
    headers = _headers(event, signer, topic, key, body)
    await broker.publish(body, topic=topic, key=key, headers=headers)
