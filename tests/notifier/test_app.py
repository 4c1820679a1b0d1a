"""Assembly: settings from the environment, channels from settings, the app on a test broker."""

from __future__ import annotations

import asyncio
import gc
import os

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts import NotificationSent, Topic
from notifier.__main__ import create_frozen_app
from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
from notifier.app import Ports, build_channels, create_app, load_directory, load_policy
from notifier.channels.wire import HttpClient
from notifier.settings import NotifierSettings
from servicekit.clock import FakeClock
from servicekit.kafka import encode
from servicekit.signing import Signer, SigningSettings
from tests.notifier.rig import CID, NOW, PHONE, POLICIES, FakeChannel, sla_set

ENV_PREFIX = "NOTIFIER_"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    return monkeypatch


def test_existing_variable_names_keep_working(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("NOTIFIER_SMS_GATEWAY_URL", "http://127.0.0.1:9999/sms")
    clean_env.setenv("NOTIFIER_WEBHOOK_URL", "http://127.0.0.1:9999/webhook")
    clean_env.setenv("NOTIFIER_SMS_GATEWAY_SECRET", "s1")
    settings = NotifierSettings()
    assert settings.sms_gateway_url == "http://127.0.0.1:9999/sms"
    assert settings.webhook_url == "http://127.0.0.1:9999/webhook"
    assert settings.sms_gateway_secret.get_secret_value() == "s1"
    assert "s1" not in repr(settings)


async def test_only_configured_channels_exist(clean_env: pytest.MonkeyPatch) -> None:
    client = HttpClient(timeout=1.0)
    assert set(build_channels(NotifierSettings(), client)) == {"sms", "webhook"}
    clean_env.setenv("NOTIFIER_SMTP_HOST", "smtp.example.com")
    clean_env.setenv("NOTIFIER_SMTP_PASSWORD", "pw")
    clean_env.setenv("NOTIFIER_WECOM_KEY", "k")
    clean_env.setenv("NOTIFIER_DINGTALK_ACCESS_TOKEN", "t")
    clean_env.setenv("NOTIFIER_DINGTALK_SECRET", "SECx")
    settings = NotifierSettings()
    assert set(build_channels(settings, client)) == {
        "sms",
        "webhook",
        "email",
        "wecom",
        "dingtalk",
    }
    assert "pw" not in repr(settings)
    assert "SECx" not in repr(settings)


@pytest.mark.parametrize("pack", ["telecom", "property"])
def test_every_pack_loads_with_its_directory(pack: str, clean_env: pytest.MonkeyPatch) -> None:
    settings = NotifierSettings(policy_dir=POLICIES, policy_pack=pack)
    assert load_policy(settings).quiet_hours is not None
    assert load_directory(settings)
    clean_env.setenv("NOTIFIER_QUIET_HOURS", "off")
    assert load_policy(NotifierSettings(policy_dir=POLICIES, policy_pack=pack)).quiet_hours is None


async def test_the_app_consumes_sla_events_and_publishes_receipts(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = NotifierSettings(policy_dir=POLICIES, signing=SigningSettings(dev_keys=True))
    settings.kafka.create_topics = False
    sms, webhook = FakeChannel("sms"), FakeChannel("webhook")
    ports = Ports(
        log=InMemoryNotificationLog(),
        contacts=InMemoryContactBook({CID: PHONE}),
        clock=FakeClock(NOW),
        channels={"sms": sms, "webhook": webhook},
    )
    app = create_app(settings, ports)
    assert isinstance(app.broker, KafkaBroker)
    receipts: list[NotificationSent] = []

    @app.broker.subscriber(Topic.NOTIFICATION_SENT.value)
    async def collect(body: bytes) -> None:
        receipts.append(NotificationSent.model_validate_json(body))

    async with TestKafkaBroker(app.broker) as broker:
        body, key = encode(sla_set()), CID.encode()
        sla = Signer.of("sla", SigningSettings(dev_keys=True))
        signed = sla.headers(Topic.SLA.value, key, body)
        await broker.publish(body, topic=Topic.SLA.value, key=key, headers=signed)
        for _ in range(100):
            if receipts:
                break
            await asyncio.sleep(0.01)
    [message] = sms.sent
    assert message.template == "acknowledgement"
    assert [r.data.notification_id for r in receipts] == [f"{CID}:ack:-:-:customer"]


async def test_blank_compose_defaults_leave_channels_off_and_the_pack_as_is(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for name in ("SMTP_HOST", "SMTP_PASSWORD", "WECOM_KEY", "DINGTALK_ACCESS_TOKEN", "QUIET_HOURS"):
        clean_env.setenv(f"{ENV_PREFIX}{name}", "")
    settings = NotifierSettings(policy_dir=POLICIES)
    assert set(build_channels(settings, HttpClient(timeout=1.0))) == {"sms", "webhook"}
    assert load_policy(settings).quiet_hours is not None


def test_what_startup_built_is_frozen_out_of_later_collections(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = NotifierSettings(policy_dir=POLICIES, signing=SigningSettings(dev_keys=True))
    settings.kafka.create_topics = False
    gc.unfreeze()
    try:
        app = create_frozen_app(settings)
        assert gc.get_freeze_count() > 0
        assert isinstance(app.broker, KafkaBroker)
    finally:
        gc.unfreeze()
