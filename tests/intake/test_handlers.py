"""Handler-level tests of `Intake.take`: in-memory store, fake clock, collected publishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from contracts import Channel, ComplaintNormalized, Event, Topic
from intake.adapters.memory import InMemoryComplaintStore
from intake.domain import IntakeLimits, RejectReason
from intake.metrics import IntakeMetrics
from intake.service import Intake
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from tests._builders.doubles import FlakyPublisher

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PHONE = "13812345678"
TEXT = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"


class Rig:
    """One intake use-case wired to memory adapters."""

    def __init__(self) -> None:
        self.store = InMemoryComplaintStore()
        self.publisher = FlakyPublisher(Event)
        self.clock = FakeClock(NOW)
        self.registry = CollectorRegistry()
        self.intake = Intake(
            store=self.store,
            publish=self.publisher,
            clock=self.clock,
            metrics=IntakeMetrics(self.registry),
            secret=b"test-secret",
            limits=IntakeLimits(),
            duplicate_window=timedelta(hours=72),
        )
        self._offset = 0

    def inbound(self, value: bytes) -> Inbound:
        self._offset += 1
        return Inbound(
            topic=Topic.RAW.value,
            partition=0,
            offset=self._offset,
            key=None,
            value=value,
            timestamp_ms=int(self.clock.now().timestamp() * 1000),
        )

    def published(self) -> list[ComplaintNormalized]:
        """Each event once; an event published again is the stored one, unchanged (ADR 0003)."""
        out: dict[object, ComplaintNormalized] = {}
        for event in self.publisher.events:
            assert isinstance(event, ComplaintNormalized)
            assert out.setdefault(event.id, event) == event
        return list(out.values())

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0


def _message(
    *,
    external_id: str | None = "SMS-1",
    text: str = TEXT,
    phone: str | None = PHONE,
    at: datetime = NOW,
    channel: str = "sms",
) -> bytes:
    body: dict[str, Any] = {"channel": channel, "text": text, "received_at": at.isoformat()}
    if external_id is not None:
        body["external_id"] = external_id
    if phone is not None:
        body["complainant"] = {"phone": phone, "name": "张三"}
    return json.dumps(body, ensure_ascii=False).encode()


@pytest.fixture
def rig() -> Rig:
    return Rig()


async def test_good_message_publishes_one_masked_normalized_complaint(rig: Rig) -> None:
    rejections = await rig.intake.take([rig.inbound(_message())])
    assert rejections == []
    [event] = rig.published()
    complaint = event.data
    assert complaint.channel is Channel.SMS
    assert complaint.complaint_id.startswith("CP20261124-")
    assert event.subject == complaint.complaint_id
    assert complaint.complainant.phone == "+86138****5678"
    assert complaint.complainant.has_phone
    assert complaint.complainant_key is not None
    assert complaint.duplicate_of is None
    serialised = event.model_dump_json()
    assert PHONE not in serialised
    assert "张三" not in serialised
    # The raw contact stays in the store for the notifier.
    stored = rig.store.records[complaint.complaint_id]
    assert stored.contact.phone_e164 == "+86" + PHONE
    assert rig.metric("complaints_accepted_total", {"channel": "sms"}) == 1


async def test_same_message_twice_in_one_batch_publishes_once(rig: Rig) -> None:
    payload = _message()
    rejections = await rig.intake.take([rig.inbound(payload), rig.inbound(payload)])
    assert rejections == []
    assert len(rig.published()) == 1
    assert rig.metric("complaints_replays_total") == 1


async def test_redelivery_in_a_later_batch_after_publish_is_idempotent(rig: Rig) -> None:
    await rig.intake.take([rig.inbound(_message())])
    rig.clock.advance(timedelta(minutes=5))
    # Same channel + external id, even with different text: the channel's id is the identity.
    await rig.intake.take([rig.inbound(_message(text=TEXT + "，请尽快处理"))])
    [event] = rig.published()
    assert event.data.text.startswith("我上个月")
    assert len(rig.store.records) == 1


async def test_failed_publish_is_retried_on_redelivery(rig: Rig) -> None:
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.intake.take([rig.inbound(_message())])
    assert rig.published() == []
    assert len(rig.store.records) == 1
    await rig.intake.take([rig.inbound(_message())])
    [event] = rig.published()
    stored_event = next(iter(rig.store.records.values())).event
    assert event.id == stored_event.id
    # A third delivery publishes the stored event again (no marks), and nothing else.
    await rig.intake.take([rig.inbound(_message())])
    assert [e.id for e in rig.publisher.events] == [event.id, event.id]
    assert len(rig.store.records) == 1
    assert rig.metric("complaints_accepted_total", {"channel": "sms"}) == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json at all {", RejectReason.NOT_JSON),
        (_message(text="   \n\t "), RejectReason.EMPTY_TEXT),
        (
            json.dumps({"channel": "sms", "text": TEXT, "$where": "1==1"}).encode(),
            RejectReason.OPERATOR_KEYS,
        ),
        (b"\xff\xfe\x00garbage", RejectReason.INVALID_UTF8),
        (_message(channel="carrier-pigeon"), RejectReason.UNKNOWN_CHANNEL),
        (b"[1, 2, 3]", RejectReason.WRONG_SHAPE),
    ],
)
async def test_bad_input_is_rejected_with_its_reason_and_nothing_published(
    rig: Rig, payload: bytes, reason: RejectReason
) -> None:
    message = rig.inbound(payload)
    rejections = await rig.intake.take([message])
    assert [(r.reason, r.message) for r in rejections] == [(reason.value, message)]
    assert rig.published() == []
    assert rig.store.records == {}
    assert rig.metric("complaints_rejected_total", {"reason": reason.value}) == 1


async def test_bad_message_does_not_hold_back_good_ones_in_the_batch(rig: Rig) -> None:
    bad = rig.inbound(b"{")
    rejections = await rig.intake.take([bad, rig.inbound(_message())])
    assert [r.message for r in rejections] == [bad]
    assert len(rig.published()) == 1


async def test_near_duplicate_from_same_phone_links_to_the_first(rig: Rig) -> None:
    await rig.intake.take([rig.inbound(_message(external_id="SMS-1"))])
    rig.clock.advance(timedelta(hours=3))
    later = rig.clock.now()
    await rig.intake.take(
        [rig.inbound(_message(external_id="SMS-2", text=TEXT + "！！", at=later))]
    )
    first, second = rig.published()
    assert first.data.complaint_id != second.data.complaint_id
    assert first.data.duplicate_of is None
    assert second.data.duplicate_of == first.data.complaint_id
    assert rig.metric("complaints_duplicates_total") == 1


async def test_near_duplicate_within_one_batch_links_to_the_earlier(rig: Rig) -> None:
    later = NOW + timedelta(minutes=30)
    rig.clock.set(later)
    await rig.intake.take(
        [
            rig.inbound(_message(external_id="SMS-2", text=TEXT + "。", at=later)),
            rig.inbound(_message(external_id="SMS-1", at=NOW)),
        ]
    )
    by_external = {e.data.external_id: e.data for e in rig.published()}
    assert by_external["SMS-1"].duplicate_of is None
    assert by_external["SMS-2"].duplicate_of == by_external["SMS-1"].complaint_id


async def test_same_text_from_another_phone_is_not_a_duplicate(rig: Rig) -> None:
    await rig.intake.take([rig.inbound(_message(external_id="SMS-1"))])
    await rig.intake.take([rig.inbound(_message(external_id="SMS-2", phone="13900001111"))])
    assert [e.data.duplicate_of for e in rig.published()] == [None, None]


async def test_different_text_from_same_phone_is_not_a_duplicate(rig: Rig) -> None:
    await rig.intake.take([rig.inbound(_message(external_id="SMS-1"))])
    other = "宽带从昨天晚上开始一直断网，师傅说今天上门结果到现在也没有来，耽误了我在家办公"
    await rig.intake.take([rig.inbound(_message(external_id="SMS-2", text=other))])
    assert [e.data.duplicate_of for e in rig.published()] == [None, None]


async def test_same_external_id_on_another_day_is_the_same_complaint(rig: Rig) -> None:
    """The case number carries the receipt date; the (channel, external id) key does not."""
    await rig.intake.take([rig.inbound(_message(at=NOW))])
    later = NOW + timedelta(days=2)
    rig.clock.set(later)
    await rig.intake.take([rig.inbound(_message(at=later, text=TEXT + "（补充）"))])
    published = rig.published()
    assert len(published) == 1
    assert rig.metric("complaints_replays_total") == 1
    # The same channel reference on another channel is another complaint.
    await rig.intake.take([rig.inbound(_message(at=later, channel="web"))])
    assert len(rig.published()) == 2


async def test_same_external_id_on_two_days_in_one_batch_is_one_complaint(rig: Rig) -> None:
    later = NOW + timedelta(hours=30)  # another receipt date: another complaint id
    rig.clock.set(later)
    batch = [_message(at=NOW), _message(at=later, text=TEXT + "（补充）")]
    assert await rig.intake.take([rig.inbound(m) for m in batch]) == []
    [published] = rig.published()
    assert published.data.received_at == NOW  # the first one stands
    assert rig.metric("complaints_replays_total") == 1
    assert list(rig.store.records) == [published.data.complaint_id]
