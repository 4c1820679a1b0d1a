"""Kafka SASL/SCRAM + TLS and MongoDB authentication, on the local stack's authenticated endpoints.

`stack.py up` serves them next to the open ones (docs/security.md): Kafka SASL_SSL and
SASL_PLAINTEXT (SCRAM-SHA-512/256), Kafka SSL with client certificates, and a FerretDB that
requires SCRAM logins (TCP and TLS), with dev-only credentials and a local CA in .local/secrets/.
Everything connects through servicekit's settings, as the services do; each refusal is checked
for its reason (an authentication or certificate failure), not just for "it did not connect".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from contracts import PARTITIONS, ComplaintNormalized, Topic
from servicekit.kafka import client_kwargs, ensure_topics, make_broker
from servicekit.mongo import open_client
from servicekit.settings import KafkaSettings, MongoSettings
from tests._builders.stack import start_local_stack
from tests.ops.local_stack import load_stack

ROOT = Path(__file__).resolve().parents[2]
CHECK_TOPIC = "e2e.security-check"  # one partition, created once; each run finds its own marker
CONNECT_TIMEOUT_MS = 5000


@pytest.fixture(scope="module")
def secured() -> Any:
    """The local stack up, with its authenticated endpoints; their addresses and credentials."""
    start_local_stack()
    return load_stack().secured()


def kafka(secured: Any, protocol: str, **changes: Any) -> KafkaSettings:
    """Settings for one of the broker's authenticated listeners, as a service would get them."""
    fields: dict[str, Any] = {
        "SASL_SSL": {
            "bootstrap_servers": secured.kafka_sasl_ssl,
            "ssl_cafile": secured.ca_file,
            "sasl_username": secured.kafka_username,
            "sasl_password": secured.kafka_password,
        },
        "SASL_PLAINTEXT": {
            "bootstrap_servers": secured.kafka_sasl_plaintext,
            "sasl_username": secured.kafka_username,
            "sasl_password": secured.kafka_password,
        },
        "SSL": {
            "bootstrap_servers": secured.kafka_ssl,
            "ssl_cafile": secured.ca_file,
            "ssl_certfile": secured.client_cert,
            "ssl_keyfile": secured.client_key,
        },
    }[protocol]
    return KafkaSettings.model_validate({"security_protocol": protocol, **fields, **changes})


async def admin_topics(settings: KafkaSettings) -> set[str]:
    """The broker's topic names, asked through an admin client built from `settings`."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings), request_timeout_ms=CONNECT_TIMEOUT_MS)
    try:
        await admin.start()
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_check_topic(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(settings), request_timeout_ms=CONNECT_TIMEOUT_MS)
    try:
        await admin.start()
        if CHECK_TOPIC not in set(await admin.list_topics()):
            with contextlib.suppress(TopicAlreadyExistsError):  # another run was first
                await admin.create_topics([NewTopic(CHECK_TOPIC, 1, 1)])
    finally:
        await admin.close()


async def refused(settings: KafkaSettings, caplog: pytest.LogCaptureFixture) -> str:
    """Connect with `settings`, expecting a refusal; returns what aiokafka logged about it."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await admin_topics(settings)
    return caplog.text


# ------------------------------------------------------------------------------ Kafka


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SASL_SSL", "SCRAM-SHA-256"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
        ("SSL", None),  # mutual TLS: the client certificate is the login
    ],
)
@pytest.mark.stack
@pytest.mark.e2e
async def test_round_trip_through_an_authenticated_listener(
    secured: Any, protocol: str, mechanism: str | None
) -> None:
    """FastStream's producer (make_broker) sends, aiokafka's admin and consumer (client_kwargs)
    create the topic and read the record back: all three clients authenticated."""
    settings = kafka(secured, protocol, **({"sasl_mechanism": mechanism} if mechanism else {}))
    await ensure_check_topic(settings)
    marker = f"{protocol}-{mechanism}-{secrets.token_hex(6)}".encode()
    part = TopicPartition(CHECK_TOPIC, 0)
    consumer = AIOKafkaConsumer(
        **client_kwargs(settings), enable_auto_commit=False, request_timeout_ms=CONNECT_TIMEOUT_MS
    )
    await consumer.start()
    broker = make_broker(settings=settings, service="security-e2e", registry=CollectorRegistry())
    try:
        consumer.assign([part])
        start = (await consumer.end_offsets([part]))[part]
        await broker.connect()
        await broker.publish(marker, topic=CHECK_TOPIC, key=b"security-e2e")
        consumer.seek(part, start)
        seen: list[bytes] = []
        deadline = time.monotonic() + 15
        while marker not in seen and time.monotonic() < deadline:
            for records in (await consumer.getmany(part, timeout_ms=500)).values():
                seen += [r.value for r in records if r.value is not None]
    finally:
        await broker.stop()
        await consumer.stop()
    assert marker in seen


@pytest.mark.stack
@pytest.mark.e2e
async def test_wrong_password_is_refused(secured: Any, caplog: pytest.LogCaptureFixture) -> None:
    logged = await refused(kafka(secured, "SASL_SSL", sasl_password="not-the-password"), caplog)
    assert "SaslAuthenticationFailed" in logged
    logged = await refused(kafka(secured, "SASL_PLAINTEXT", sasl_username="nobody"), caplog)
    assert "SaslAuthenticationFailed" in logged
    # The same settings with the right password pass: the refusal was the password's.
    assert CHECK_TOPIC in await admin_topics(kafka(secured, "SASL_SSL"))


@pytest.mark.stack
@pytest.mark.e2e
async def test_tls_listeners_refuse_what_is_not_tls_or_not_trusted(
    secured: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Plain (unencrypted) Kafka protocol to the TLS port: the broker drops the connection.
    plain = KafkaSettings(bootstrap_servers=secured.kafka_sasl_ssl)
    assert "closed" in await refused(plain, caplog)
    # The right password but no local CA: the client does not trust the broker, sends nothing.
    system_cas = kafka(secured, "SASL_SSL", ssl_cafile=None)
    assert "CERTIFICATE_VERIFY_FAILED" in await refused(system_cas, caplog)
    # The SSL listener wants a client certificate signed by the local CA.
    no_cert = kafka(secured, "SSL", ssl_certfile=None, ssl_keyfile=None)
    assert "closed" in await refused(no_cert, caplog)


# ------------------------------------------------------------------------------ Kafka ACLs


def as_principal(secured: Any, principal: str) -> KafkaSettings:
    """SASL_SSL settings logged in as one service principal (deploy/local kafka_acls.GRANTS)."""
    username, password = secured.kafka_login(principal)
    assert username == principal, f"the stack has no Kafka principal {principal!r}"
    return kafka(secured, "SASL_SSL", sasl_username=username, sasl_password=password)


async def publish_as(settings: KafkaSettings, topic: Topic) -> None:
    """One probe record, produced as the services produce (idempotent, acks=all)."""
    producer = AIOKafkaProducer(
        **client_kwargs(settings),
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=CONNECT_TIMEOUT_MS,
    )
    await producer.start()
    try:
        # Not an event: a consumer that meets it dead-letters it, as it does any bad input.
        await producer.send_and_wait(topic.value, b'{"acl_probe": true}', key=b"acl-probe")
    finally:
        await producer.stop()


@pytest.mark.parametrize(
    ("principal", "own", "foreign"),
    [
        ("channels", Topic.RAW, Topic.NORMALIZED),
        ("intake", Topic.NORMALIZED, Topic.CLASSIFIED),
        ("classifier", Topic.CLASSIFIED, Topic.SLA),
        ("sla", Topic.LIFECYCLE, Topic.NOTIFICATION_SENT),
        ("notifier", Topic.NOTIFICATION_SENT, Topic.LIFECYCLE),
    ],
)
@pytest.mark.stack
@pytest.mark.e2e
async def test_a_service_principal_writes_its_own_topic_and_no_other(
    secured: Any, principal: str, own: Topic, foreign: Topic
) -> None:
    """The broker's ACLs, not the services' good manners, keep forged events out: the notifier
    cannot write a lifecycle state change, the classifier cannot write an SLA event, …"""
    await ensure_topics(kafka(secured, "SASL_SSL"))  # as the admin: a fresh cluster has none
    settings = as_principal(secured, principal)
    with pytest.raises(TopicAuthorizationFailedError):
        await publish_as(settings, foreign)
    await publish_as(settings, own)  # the same login, the same client: the refusal was the ACL's


@pytest.mark.stack
@pytest.mark.e2e
async def test_a_service_principal_reads_only_what_it_consumes(secured: Any) -> None:
    """The classifier reads normalised complaints in its own group, not the SLA's events."""
    await ensure_topics(kafka(secured, "SASL_SSL"))
    settings = as_principal(secured, "classifier")
    allowed = TopicPartition(Topic.NORMALIZED.value, 0)
    refused_part = TopicPartition(Topic.SLA.value, 0)
    consumer = AIOKafkaConsumer(
        **client_kwargs(settings),
        group_id="classifier-acl-probe",
        enable_auto_commit=False,
        request_timeout_ms=CONNECT_TIMEOUT_MS,
    )
    await consumer.start()
    try:
        consumer.assign([allowed])
        await consumer.seek_to_end(allowed)
        await consumer.getmany(allowed, timeout_ms=500)  # no error: its topic, its group
        consumer.assign([refused_part])
        await consumer.seek_to_beginning(refused_part)
        with pytest.raises(TopicAuthorizationFailedError):
            await consumer.getmany(refused_part, timeout_ms=3000)
    finally:
        await consumer.stop()


# ------------------------------------------------------------------------------ MongoDB


def mongo(secured: Any, *, tls: bool, **changes: Any) -> MongoSettings:
    """Settings for the authenticated FerretDB: URL without credentials, login apart."""
    fields: dict[str, Any] = {
        "url": f"mongodb://{secured.mongo_auth_tls if tls else secured.mongo_auth}/",
        "database": "complaints_security_e2e",
        "timeout_ms": 3000,
        "username": secured.mongo_username,
        "password": secured.mongo_password,
        "auth_source": secured.mongo_auth_source,
        "tls_cafile": secured.ca_file if tls else None,
    }
    return MongoSettings.model_validate(fields | changes)


async def insert_and_count(settings: MongoSettings, run: str) -> int:
    client = open_client(settings, app_name="security-e2e")
    try:
        db = client[settings.database]
        await db["checks"].insert_one({"run": run})
        return await db["checks"].count_documents({"run": run})
    finally:
        await client.close()


@pytest.mark.stack
@pytest.mark.e2e
@pytest.mark.parametrize("tls", [True, False], ids=["tls", "tcp"])
async def test_mongo_login_is_required(secured: Any, tls: bool) -> None:
    run = secrets.token_hex(6)
    assert await insert_and_count(mongo(secured, tls=tls), run) == 1
    # The same credentials in the URL alone (percent-encoded, authSource, TLS options).
    in_url = MongoSettings(url=secured.mongo_url(tls=tls), database="complaints_security_e2e")
    assert await insert_and_count(in_url, run) == 2
    anonymous_settings = mongo(secured, tls=tls, username=None, password=None, auth_source=None)
    with pytest.raises(OperationFailure) as anonymous:
        await insert_and_count(anonymous_settings, run)
    assert anonymous.value.code == 13  # Unauthorized: "Command insert requires authentication"
    with pytest.raises(OperationFailure) as wrong:
        await insert_and_count(mongo(secured, tls=tls, password="not-the-password"), run)
    assert wrong.value.code == 18  # AuthenticationFailed


@pytest.mark.stack
@pytest.mark.e2e
async def test_mongo_tls_port_refuses_plain_connections(secured: Any) -> None:
    plain = mongo(secured, tls=True, tls_cafile=None)  # the TLS port, but no TLS
    with pytest.raises(ServerSelectionTimeoutError):
        await insert_and_count(plain, secrets.token_hex(6))


# ------------------------------------------------------------------------------ a real service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def normalized_since(
    settings: KafkaSettings, starts: dict[TopicPartition, int], external_id: str
) -> AsyncIterator[ComplaintNormalized]:
    """Normalised events for `external_id` written after `starts` (read over `settings`)."""
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for part, offset in starts.items():
            consumer.seek(part, offset)
        for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
            for record in records:  # other runs' records, even poison, may be there too
                if record.value and external_id.encode() in record.value:
                    event = ComplaintNormalized.model_validate_json(record.value)
                    if event.data.external_id == external_id:
                        yield event
    finally:
        await consumer.stop()


@pytest.fixture
def secured_tool_env(secured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `complaints` command's Kafka security from its COMPLAINTS_KAFKA_* variables."""
    for key, value in {
        "SECURITY_PROTOCOL": "SASL_SSL",
        "SASL_USERNAME": secured.kafka_username,
        "SASL_PASSWORD": secured.kafka_password,
        "SSL_CAFILE": str(secured.ca_file),
    }.items():
        monkeypatch.setenv(f"COMPLAINTS_KAFKA_{key}", value)


@pytest.mark.stack
@pytest.mark.e2e
@pytest.mark.usefixtures("secured_tool_env")
async def test_intake_configured_only_by_environment(secured: Any, tmp_path: Path) -> None:
    """`python -m intake` with SASL_SSL Kafka and authenticated Mongo from INTAKE_* variables:
    a complaint sent over the secured listener is stored and its normalised event published;
    the HTTP API wants its key; neither password shows in the service's log."""
    run = f"sec{secrets.token_hex(4)}"
    api_key = secrets.token_urlsafe(16)
    env = secured.service_env("INTAKE") | {
        "INTAKE_API_KEYS": json.dumps({"web": api_key}),
        "INTAKE_MONGO__DATABASE": "complaints_security_e2e",
        "INTAKE_LOG_LEVEL": "DEBUG",  # the most talkative log must not leak either
    }
    config = StackConfig(
        database="complaints_security_e2e",
        kafka=secured.kafka_sasl_ssl,
        mongo=env["INTAKE_MONGO__URL"],  # no credentials in it: they come apart
        port_base=free_port() - 1,
        log_dir=tmp_path,
        extra_env=env,
    )
    settings = kafka(secured, "SASL_SSL")
    await ensure_check_topic(settings)  # the listener is up before the service starts
    pipeline = Pipeline(config)
    client = open_client(mongo(secured, tls=True), app_name="security-e2e")
    try:
        pipeline.start("intake")
        await pipeline.wait_ready(limit_s=40)
        [message] = list(workload.build(run_id=run, count=1, start=datetime.now(UTC)))
        topic = Topic.NORMALIZED
        parts = [TopicPartition(topic.value, p) for p in range(PARTITIONS[topic])]
        probe = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
        await probe.start()
        try:
            starts = await probe.end_offsets(parts)
        finally:
            await probe.stop()
        # Published by the CLI's own code path (COMPLAINTS_KAFKA_* from the fixture).
        assert await workload.publish([message], bootstrap=secured.kafka_sasl_ssl) == 1
        url = f"http://127.0.0.1:{config.port('intake')}/complaints"
        body = {
            "channel": "web",
            "text": f"网页投诉：宽带断网 {run}",
            "complainant": {"phone": "13900001111"},
        }
        async with httpx.AsyncClient(timeout=10) as http:
            no_key = await http.post(url, json=body)
            wrong_key = await http.post(url, json=body, headers={"X-Api-Key": "nope"})
            accepted = await http.post(url, json=body, headers={"X-Api-Key": api_key})
        assert (no_key.status_code, wrong_key.status_code, accepted.status_code) == (401, 401, 202)

        complaints = client["complaints_security_e2e"]["complaints"]
        stored: dict[str, Any] | None = None
        events: list[ComplaintNormalized] = []
        deadline = time.monotonic() + 30
        while (stored is None or not events) and time.monotonic() < deadline:
            stored = stored or await complaints.find_one({"external_id": message.external_id})
            events = [e async for e in normalized_since(settings, starts, message.external_id)]
            await asyncio.sleep(0.5)
        assert stored is not None, "intake did not store the complaint in the authenticated Mongo"
        assert [event.subject for event in events] == [stored["_id"]]
        via_http = await complaints.find_one({"_id": accepted.json()["complaint_id"]})
        assert via_http is not None
    finally:
        pipeline.stop_all()
        await client.close()
    log = (tmp_path / "intake-0.log").read_text(errors="replace")
    assert log.strip(), "the service wrote no log at all"
    assert secured.kafka_password not in log
    assert secured.mongo_password not in log


# ------------------------------------------------------------------------------ no stack needed


def test_settings_never_show_secrets() -> None:
    secret = "s3cret-" + secrets.token_hex(4)
    settings = KafkaSettings(
        security_protocol="SASL_SSL", sasl_username="u", sasl_password=secret, ssl_cafile=ROOT
    )
    assert secret not in repr(settings)
    mongo_settings = MongoSettings(url=f"mongodb://u:{secret}@h/", username="u", password=secret)
    assert secret not in repr(mongo_settings)
    with pytest.raises(ValidationError) as refused_input:  # refused input is not echoed either
        KafkaSettings.model_validate({"security_protocol": "SASL_SSL", "sasl_password": secret})
    assert secret not in str(refused_input.value)
    assert "needs sasl_username" in str(refused_input.value)


def test_misconfigured_security_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="does not use TLS"):
        KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password="p",
                      ssl_cafile=ROOT)  # fmt: skip
    with pytest.raises(ValidationError, match="need ssl_certfile"):
        KafkaSettings(security_protocol="SSL", ssl_keyfile=ROOT)
    with pytest.raises(ValidationError, match="go together"):
        MongoSettings(username="u")


def test_client_kwargs_carry_tls_and_sasl() -> None:
    plain = client_kwargs(KafkaSettings())
    assert plain == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    sasl = client_kwargs(
        KafkaSettings(
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-256",
            sasl_username="u",
            sasl_password="p",
        )
    )
    assert sasl["security_protocol"] == "SASL_SSL"
    assert sasl["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    assert sasl["ssl_context"].check_hostname
    assert (sasl["sasl_mechanism"], sasl["sasl_plain_password"]) == ("SCRAM-SHA-256", "p")
