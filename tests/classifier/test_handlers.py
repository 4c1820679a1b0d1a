"""Handler-level tests of `Classification.take`: memory store, fake clock, collected publishes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from classifier.domain import Classifier
from classifier.handlers import NORMALIZED
from contracts import (
    FlagName,
    Kind,
    Severity,
)
from servicekit.bodies import deliver
from tests._builders.classifier import (
    BILLING,
    ENQUIRY,
    ME,
    NOW,
    OTHER,
    OUTAGE,
    Rig,
    normalized,
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
    rejections = await deliver(NORMALIZED, rig.use_case.take, [message, good])
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
        await deliver(
            NORMALIZED, rig.use_case.take, [rig.inbound(source.model_dump_json().encode())]
        )
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
