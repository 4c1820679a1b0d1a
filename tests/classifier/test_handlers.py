"""Handler-level tests of `Classification.take`: memory store, fake clock, collected publishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.domain import Classifier
from classifier.metrics import ClassifierMetrics
from classifier.service import Classification
from contracts import (
    Channel,
    ComplaintClassified,
    ComplaintNormalized,
    CustomerTier,
    Event,
    FlagName,
    IncidentChanged,
    Kind,
    MaskedComplainant,
    NormalizedComplaint,
    Severity,
    Topic,
)
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from tests._builders.doubles import FlakyPublisher

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ME = "ck_" + "a" * 32
OTHER = "ck_" + "b" * 32
BILLING = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"
ENQUIRY = "请问怎么查询话费余额？营业厅几点关门？"
OUTAGE = "阳光花园小区的宽带从今天早上开始全部断网，光猫亮红灯，请尽快抢修。"


@pytest.fixture(scope="module")
def telecom() -> Classifier:
    """The shipped telecom pack and model, loaded once."""
    return Classifier.load(policy_dir=POLICIES, pack="telecom")


class Publisher(FlakyPublisher[Event]):
    """Collects published events; `classified()` checks they are all decisions."""

    def __init__(self) -> None:
        super().__init__(Event)

    def classified(self) -> list[ComplaintClassified]:
        out = [e for e in self.events if isinstance(e, ComplaintClassified)]
        news = [e for e in self.events if isinstance(e, IncidentChanged)]
        assert len(out) + len(news) == len(self.events)
        return out

    def incidents(self) -> list[IncidentChanged]:
        return [e for e in self.events if isinstance(e, IncidentChanged)]


class Rig:
    """One classification use-case wired to memory adapters."""

    def __init__(self, classifier: Classifier) -> None:
        self.store = InMemoryClassificationStore()
        self.publisher = Publisher()
        self.clock = FakeClock(NOW)
        self.registry = CollectorRegistry()
        self.use_case = Classification(
            classifier=classifier,
            store=self.store,
            publish=self.publisher,
            clock=self.clock,
            metrics=ClassifierMetrics(self.registry),
        )
        self._offset = 0

    def inbound(self, value: bytes) -> Inbound:
        self._offset += 1
        return Inbound(Topic.NORMALIZED.value, 0, self._offset, None, value, 0)

    async def take(self, *events: ComplaintNormalized) -> list[ComplaintClassified]:
        before = len(self.publisher.classified())
        rejections = await self.use_case.take(
            [self.inbound(e.model_dump_json().encode()) for e in events]
        )
        assert rejections == []
        return self.publisher.classified()[before:]


@pytest.fixture
def rig(telecom: Classifier) -> Rig:
    return Rig(telecom)


def normalized(
    number: int,
    text: str,
    *,
    key: str | None = ME,
    at: datetime = NOW,
    duplicate_of: str | None = None,
    tier: CustomerTier = CustomerTier.STANDARD,
    channel: Channel = Channel.HOTLINE,
) -> ComplaintNormalized:
    """A normalised complaint event as intake would publish it."""
    cid = f"CP20261124-{number:010d}"
    data = NormalizedComplaint(
        complaint_id=cid,
        channel=channel,
        received_at=at,
        received_at_local=at.isoformat(),
        text=text,
        text_simplified=text,
        complainant_key=key,
        complainant=MaskedComplainant(phone="+86138****5678", has_phone=True, tier=tier),
        duplicate_of=duplicate_of,
    )
    return ComplaintNormalized.build(
        data=data, subject=cid, source="/complaints/intake", time=at, cause=cid
    )


async def test_normalized_complaint_yields_one_classified_decision(rig: Rig) -> None:
    source = normalized(1, BILLING)
    [event] = await rig.take(source)
    data = event.data
    assert event.subject == source.data.complaint_id
    assert data.complaint_id == source.data.complaint_id
    assert data.kind is Kind.COMPLAINT
    assert data.category is not None
    assert data.category.startswith("billing")
    assert isinstance(data.severity, Severity)
    assert data.received_at == NOW
    assert data.complainant_key == ME
    assert data.policy == "telecom"
    assert data.explanation, "a decision carries its reasons"
    assert not data.has_flag(FlagName.REPEAT)
    assert (
        rig.registry.get_sample_value(
            "complaints_classified_total",
            {"kind": "complaint", "category": "billing", "severity": data.severity.value},
        )
        == 1
    )


async def test_enquiry_is_classified_without_category_or_severity(rig: Rig) -> None:
    [event] = await rig.take(normalized(1, ENQUIRY))
    assert event.data.kind is Kind.ENQUIRY
    assert event.data.category is None
    assert event.data.severity is None


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b'{"specversion": "1.0", "type": "cn.complaints.normalized.v1"}',
        b"",
    ],
)
async def test_invalid_event_is_rejected_and_nothing_published(rig: Rig, payload: bytes) -> None:
    message = rig.inbound(payload)
    good = rig.inbound(normalized(1, BILLING).model_dump_json().encode())
    rejections = await rig.use_case.take([message, good])
    assert [(r.reason, r.message) for r in rejections] == [("invalid_event", message)]
    assert [e.data.complaint_id for e in rig.publisher.classified()] == ["CP20261124-0000000001"]


async def test_redelivery_after_publish_republishes_the_stored_decision_unchanged(
    rig: Rig,
) -> None:
    source = normalized(1, BILLING)
    [first] = await rig.take(source)
    rig.clock.advance(timedelta(hours=1))
    assert await rig.take(source) == [first]  # same id, same time: consumers drop it
    assert rig.registry.get_sample_value("complaints_classification_confidence_count") == 1


async def test_redelivery_after_failed_publish_sends_the_stored_first_decision(rig: Rig) -> None:
    source = normalized(2, BILLING)
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.use_case.take([rig.inbound(source.model_dump_json().encode())])
    assert rig.publisher.classified() == []
    stored = rig.store.decisions.events[source.data.complaint_id]
    # Meanwhile history grows: a fresh decision would now see an earlier complaint by ME.
    await rig.take(normalized(1, BILLING, at=NOW - timedelta(days=1)))
    rig.clock.advance(timedelta(hours=1))
    [again] = await rig.take(source)
    assert again == stored
    assert again.id == stored.id
    assert again.time == NOW
    assert not again.data.has_flag(FlagName.REPEAT)


async def test_same_complaint_twice_in_one_batch_is_decided_once(rig: Rig) -> None:
    source = normalized(1, BILLING)
    published = await rig.take(source, source)
    assert len(published) == 1


async def test_repeat_by_same_complainant_in_same_category_is_flagged(rig: Rig) -> None:
    [first] = await rig.take(normalized(1, BILLING, at=NOW - timedelta(days=10)))
    [second] = await rig.take(normalized(2, BILLING))
    assert not first.data.has_flag(FlagName.REPEAT)
    [repeat] = [f for f in second.data.flags if f.name is FlagName.REPEAT]
    assert repeat.related == [first.data.complaint_id]
    assert repeat.count == 2
    assert any(r.rule == "history.repeat" for r in second.data.explanation)


async def test_no_repeat_for_another_complainant_or_another_category(rig: Rig) -> None:
    await rig.take(normalized(1, BILLING, key=OTHER, at=NOW - timedelta(days=10)))
    await rig.take(normalized(2, OUTAGE, at=NOW - timedelta(days=5)))
    [third] = await rig.take(normalized(3, BILLING))
    assert not third.data.has_flag(FlagName.REPEAT)


async def test_no_repeat_outside_the_window(rig: Rig, telecom: Classifier) -> None:
    window = timedelta(days=telecom.history_windows.repeat_days)
    await rig.take(normalized(1, BILLING, at=NOW - window - timedelta(days=1)))
    [later] = await rig.take(normalized(2, BILLING))
    assert not later.data.has_flag(FlagName.REPEAT)


async def test_hot_issue_counts_distinct_complainants_excluding_self(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.hot_issue_min_complainants
    assert needed == 3, "the scenario below assumes the pack's three complainants"
    # ME and one other person: two complainants in all, so no hot issue yet.
    await rig.take(normalized(1, OUTAGE, key=ME, at=NOW - timedelta(days=2)))
    await rig.take(normalized(2, OUTAGE, key=OTHER, at=NOW - timedelta(days=1)))
    [mine_again] = await rig.take(normalized(3, OUTAGE, key=ME))
    assert mine_again.data.has_flag(FlagName.REPEAT)
    assert not mine_again.data.has_flag(FlagName.HOT_ISSUE)
    # A third person makes it one.
    [third] = await rig.take(
        normalized(4, OUTAGE, key="ck_" + "c" * 32, at=NOW + timedelta(minutes=5))
    )
    [hot] = [f for f in third.data.flags if f.name is FlagName.HOT_ISSUE]
    assert hot.count == 3


async def test_intake_duplicate_is_carried_as_a_flag(rig: Rig) -> None:
    original = "CP20261124-0000000001"
    [event] = await rig.take(normalized(2, BILLING, duplicate_of=original))
    assert event.data.duplicate_of == original
    [flag] = [f for f in event.data.flags if f.name is FlagName.DUPLICATE]
    assert flag.related == [original]
