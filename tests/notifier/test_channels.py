"""Channel adapters against real local servers: HTTP receivers and an SMTP server."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from contracts import Audience, DeliveryStatus
from notifier.channels.base import (
    Channel,
    Message,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifier.channels.http import SignedHttpChannel
from notifier.channels.robots import DingTalkRobotChannel, WeComRobotChannel, dingtalk_sign
from notifier.channels.smtp import SmtpChannel, message_id
from notifier.channels.wire import HttpClient
from notifier.domain import Delivery, Intent, Recipient, Templates
from notifier.metrics import NotifierMetrics
from notifier.sender import RetryPolicy, Sender
from servicekit.clock import FakeClock
from tests.notifier.rig import CID, NOW, PHONE
from tests.notifier.servers import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    PASSWORD,
    SMS_SECRET,
    USER,
    WEBHOOK_SECRET,
    WECOM_KEY,
    Mailbox,
    Receiver,
    Reply,
    self_signed_certificate,
    serving_http,
    serving_smtp,
)

TIMEOUT = 0.3


def message(
    key: str = f"{CID}:breached:resolution#1:100:team_lead:desk",
    address: str = "",
    body: str = "【已超时】案件已超时",
) -> Message:
    return Message(
        key=key,
        recipient="desk",
        address=address,
        subject=f"超时 {CID}",
        body=body,
        html=f"<p>{body}</p>",
        complaint_id=CID,
        audience="team_lead",
        template="staff_breached",
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    box = Receiver()
    async with serving_http(box) as base:
        yield box, base


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(timeout=TIMEOUT) as http:
        yield http


def sender_for(channel: Channel) -> Sender:
    """A sender with fast retries (real sleeps of a few milliseconds)."""
    return Sender(
        channels={channel.name: channel},
        templates=Templates({"t": {"subject": "{{ case }}", "body": "案件{{ case }}"}}),
        clock=FakeClock(NOW),
        metrics=NotifierMetrics(CollectorRegistry()),
        retry=RetryPolicy(max_attempts=4, base_seconds=0.001, cap_seconds=0.005),
    )


def delivery(channel: str, address: str = "") -> Delivery:
    intent = Intent(
        key=f"{CID}:t:-:-:handler",
        complaint_id=CID,
        audience=Audience.HANDLER,
        template="t",
        trigger_time=NOW,
        context={"case": CID},
    )
    return Delivery(f"{intent.key}:desk", intent, Recipient("desk", channel, address, "desk"))


# --- SMS gateway and webhook: HMAC-signed JSON -----------------------------------------------


async def test_sms_gateway_receives_a_signed_json_message(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    sms = SignedHttpChannel(name="sms", url=f"{base}/sms", secret=SMS_SECRET, client=client)
    await sms.send(message(address=PHONE))
    [request] = box.accepted
    payload = request.json()
    assert payload["to"] == PHONE
    assert payload["text"] == "【已超时】案件已超时"
    assert request.headers["idempotency-key"] == message().key
    assert box.bad_signatures == 0


async def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    hook = SignedHttpChannel(name="webhook", url=f"{base}/webhook", secret=b"wrong", client=client)
    outcome = await sender_for(hook).send(delivery("webhook"))
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.reason == "webhook: HTTP 401"
    assert (len(box.requests), box.bad_signatures) == (1, 1)


async def test_webhook_500s_are_retried_until_the_receiver_recovers(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    box.script["/webhook"] = [Reply(500, {}), Reply(503, {})]
    hook = SignedHttpChannel(
        name="webhook", url=f"{base}/webhook", secret=WEBHOOK_SECRET, client=client
    )
    outcome = await sender_for(hook).send(delivery("webhook"))
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert len(box.requests) == 3
    assert len(box.accepted) == 1


async def test_a_hanging_gateway_times_out_and_the_retry_gets_through(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    box.script["/sms"] = [Reply(delay=TIMEOUT * 3)]
    sms = SignedHttpChannel(name="sms", url=f"{base}/sms", secret=SMS_SECRET, client=client)
    with pytest.raises(TransientDeliveryError, match="ReadTimeout"):
        await sms.send(message(address=PHONE))
    await sms.send(message(address=PHONE))
    assert len(box.accepted) == 1


async def test_a_client_error_is_permanent(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    box.script["/sms"] = [Reply(422, {"error": "bad number"})]
    sms = SignedHttpChannel(name="sms", url=f"{base}/sms", secret=SMS_SECRET, client=client)
    outcome = await sender_for(sms).send(delivery("sms", PHONE))
    assert (outcome.status, outcome.attempts, outcome.reason) == (
        DeliveryStatus.FAILED,
        1,
        "sms: HTTP 422",
    )


async def test_an_unreachable_gateway_is_transient(client: HttpClient) -> None:
    sms = SignedHttpChannel(
        name="sms", url="http://127.0.0.1:9/sms", secret=SMS_SECRET, client=client
    )
    outcome = await sender_for(sms).send(delivery("sms", PHONE))
    # Retried, then left to wait for the gateway to come back (not failed for good yet).
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.DEFERRED, 4)
    assert outcome.reason == "channel_unavailable"


# --- WeCom and DingTalk group robots ---------------------------------------------------------


async def test_wecom_robot_gets_its_documented_text_message(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    wecom = WeComRobotChannel(url=f"{base}/wecom", key=WECOM_KEY, client=client)
    await wecom.send(message())
    [body] = box.bodies("/wecom")
    assert body == {"msgtype": "text", "text": {"content": f"超时 {CID}\n【已超时】案件已超时"}}


async def test_wecom_rate_limit_errcode_is_retried_and_a_bad_key_is_permanent(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    box.script["/wecom"] = [Reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    wecom = WeComRobotChannel(url=f"{base}/wecom", key=WECOM_KEY, client=client)
    outcome = await sender_for(wecom).send(delivery("wecom"))
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.DELIVERED, 2)
    wrong = WeComRobotChannel(url=f"{base}/wecom", key="nope", client=client)
    with pytest.raises(PermanentDeliveryError, match="93000"):
        await wrong.send(message())


async def test_wecom_text_is_cut_to_the_robot_limit_without_breaking_characters(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    wecom = WeComRobotChannel(url=f"{base}/wecom", key=WECOM_KEY, client=client)
    await wecom.send(message(body="超" * 2000))
    [body] = box.bodies("/wecom")
    content = body["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("超")


async def test_dingtalk_sign_is_verified_by_the_receiver(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    ding = DingTalkRobotChannel(
        url=f"{base}/dingtalk",
        access_token=DINGTALK_TOKEN,
        secret=DINGTALK_SECRET,
        client=client,
    )
    for _ in range(5):  # base64 signs with '+', '/' and '=' must survive URL encoding
        await ding.send(message())
    assert len(box.accepted) == 5
    assert box.bad_signatures == 0
    assert box.bodies("/dingtalk")[0]["msgtype"] == "text"


def test_dingtalk_sign_matches_the_documented_recipe() -> None:
    # From the openssl command, not from our code:
    # printf "1700000000000\nSEC000" | openssl dgst -sha256 -hmac SEC000 -binary | base64
    assert dingtalk_sign("SEC000", 1700000000000) == (
        "ltBBey5eZrWKh1cPzFIdz3v3xpkc4Tjx4lLsPSHqdtA="
    )


async def test_dingtalk_errcode_on_http_200_is_a_failure(
    receiver: tuple[Receiver, str], client: HttpClient
) -> None:
    box, base = receiver
    bad_secret = DingTalkRobotChannel(
        url=f"{base}/dingtalk", access_token=DINGTALK_TOKEN, secret="SECwrong", client=client
    )
    outcome = await sender_for(bad_secret).send(delivery("dingtalk"))
    assert (outcome.status, outcome.attempts, outcome.reason) == (
        DeliveryStatus.FAILED,
        1,
        "dingtalk: errcode 310000",
    )
    box.script["/dingtalk"] = [Reply(200, {"errcode": 130101, "errmsg": "send too fast"})]
    good = DingTalkRobotChannel(
        url=f"{base}/dingtalk", access_token=DINGTALK_TOKEN, secret=DINGTALK_SECRET, client=client
    )
    outcome = await sender_for(good).send(delivery("dingtalk"))
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.DELIVERED, 2)


# --- E-mail over SMTP -------------------------------------------------------------------------


async def test_email_arrives_with_text_and_escaped_html_parts() -> None:
    box = Mailbox()
    async with serving_smtp(box) as port:
        mail = SmtpChannel(host="127.0.0.1", port=port, sender="n@example.com", starttls=False)
        hostile = message(address="lead@example.com", body="结果<script>x</script>")
        hostile = Message(**{**hostile.__dict__, "html": "<p>结果&lt;script&gt;</p>"})
        await mail.send(hostile)
    [received] = box.messages
    assert received["To"] == "lead@example.com"
    assert received["Subject"] == f"超时 {CID}"
    assert received["Message-ID"] == message_id(hostile.key)
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "结果<script>x</script>" in text.get_content()
    assert "<script>" not in html.get_content()
    assert box.envelopes == [("n@example.com", ["lead@example.com"])]


async def test_smtp_4xx_is_retried_and_5xx_is_permanent() -> None:
    box = Mailbox(refuse=["451 4.3.0 Try again later"])
    async with serving_smtp(box) as port:
        mail = SmtpChannel(host="127.0.0.1", port=port, sender="n@example.com", starttls=False)
        sender = sender_for(mail)
        outcome = await sender.send(delivery("email", "lead@example.com"))
        assert (outcome.status, outcome.attempts) == (DeliveryStatus.DELIVERED, 2)
        box.refuse = ["550 5.1.1 No such user"]
        outcome = await sender.send(delivery("email", "nobody@example.com"))
        assert (outcome.status, outcome.attempts, outcome.reason) == (
            DeliveryStatus.FAILED,
            1,
            "email: SMTP 550",
        )
    assert len(box.messages) == 1


async def test_smtp_server_down_is_transient() -> None:
    mail = SmtpChannel(host="127.0.0.1", port=9, sender="n@example.com", starttls=False)
    with pytest.raises(TransientDeliveryError):
        await mail.send(message(address="lead@example.com"))


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """The test SMTP server's TLS context with the self-signed certificate."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def starttls(port: int, *, password: str = PASSWORD, trust: Path | None = None) -> SmtpChannel:
    """The e-mail channel logging in after STARTTLS; `trust`: the CA file it trusts."""
    return SmtpChannel(
        host="127.0.0.1",
        port=port,
        sender="n@example.com",
        starttls=True,
        username=USER,
        password=password,
        tls_context=ssl.create_default_context(cafile=str(trust)) if trust else None,
    )


@needs_openssl
async def test_email_over_starttls_with_login(certificate: tuple[Path, Path]) -> None:
    box = Mailbox()
    async with serving_smtp(box, tls=server_tls(certificate)) as port:
        await starttls(port, trust=certificate[0]).send(message(address="lead@example.com"))
        wrong = starttls(port, password="wrong", trust=certificate[0])
        with pytest.raises(PermanentDeliveryError, match="SMTP 535"):
            await wrong.send(message(address="lead@example.com"))
        plain = SmtpChannel(host="127.0.0.1", port=port, sender="n@example.com", starttls=False)
        with pytest.raises(PermanentDeliveryError):
            await plain.send(message(address="lead@example.com"))
    assert len(box.messages) == 1


@needs_openssl
async def test_starttls_to_an_untrusted_certificate_fails(certificate: tuple[Path, Path]) -> None:
    box = Mailbox()
    async with serving_smtp(box, tls=server_tls(certificate)) as port:
        mail = starttls(port)
        with pytest.raises((TransientDeliveryError, PermanentDeliveryError)):
            await mail.send(message(address="lead@example.com"))
    assert box.messages == []
