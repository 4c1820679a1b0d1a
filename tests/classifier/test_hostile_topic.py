"""Hostile input on `complaints.normalized.v1`, through the classifier's real subscription.

Each entry (tests/classifier/corpus/normalized.jsonl) travels in one consumed batch between two
good complaints: it is dead-lettered with its reason or classified like any complaint, with
its text kept as text; the good ones are classified either way, and what the Mongo adapter
would store for a decision holds no operator or path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import TypeAdapter

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.adapters.mongo import MongoClassificationStore
from classifier.app import Ports, create_app
from classifier.domain import Classifier
from classifier.settings import ClassifierSettings
from contracts import (
    Channel,
    ComplaintClassified,
    ComplaintNormalized,
    MaskedComplainant,
    NormalizedComplaint,
    Topic,
)
from servicekit.clock import FakeClock
from tests.hostile import (
    Entry,
    RecordingDatabase,
    ServiceOnBroker,
    assert_dead_letters,
    check_write,
    corpus,
    payload,
    without_retry_sleeps,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CORPUS = Path(__file__).parent / "corpus" / "normalized.jsonl"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
HOSTILE_ID = "CP20261124-0000000099"
CLASSIFIED = TypeAdapter(ComplaintClassified)
TEXT = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"


def normalized(complaint_id: str, text: str = TEXT) -> ComplaintNormalized:
    data = NormalizedComplaint(
        complaint_id=complaint_id,
        channel=Channel.HOTLINE,
        received_at=NOW,
        received_at_local="2026-11-24 10:00",
        text=text,
        text_simplified=text,
        complainant_key="ck_" + "a" * 32,
        complainant=MaskedComplainant(),
    )
    return ComplaintNormalized.build(
        data=data, subject=complaint_id, source="/complaints/intake", time=NOW, cause=complaint_id
    )


BASES = {"normalized": json.loads(normalized(HOSTILE_ID).model_dump_json())}
GOOD = ("CP20261124-0000000001", "CP20261124-0000000002")


@pytest.fixture(scope="module")
def telecom() -> Classifier:
    return Classifier.load(policy_dir=POLICIES, pack="telecom")


@pytest.fixture
async def service(
    telecom: Classifier, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[ServiceOnBroker, InMemoryClassificationStore]]:
    without_retry_sleeps(monkeypatch)
    monkeypatch.setattr(Classifier, "load", lambda **_: telecom)
    settings = ClassifierSettings(policy_dir=POLICIES)
    settings.kafka.create_topics = False
    store = InMemoryClassificationStore()
    app = create_app(settings, Ports(store=store, clock=FakeClock(NOW)))
    async with ServiceOnBroker(app, collect=[Topic.CLASSIFIED]) as rig:
        yield rig, store


@pytest.mark.parametrize("entry", corpus(CORPUS))
async def test_normalized_topic_corpus(
    service: tuple[ServiceOnBroker, InMemoryClassificationStore], entry: Entry
) -> None:
    rig, store = service
    hostile = payload(entry, BASES)
    good = [normalized(cid).model_dump_json().encode() for cid in GOOD]
    await rig.batch(Topic.NORMALIZED, [good[0], hostile, good[1]])
    assert_dead_letters(entry, hostile, rig.dead_letters())
    decided = {e.data.complaint_id: e for e in rig.events(Topic.CLASSIFIED, CLASSIFIED)}
    assert set(GOOD) <= decided.keys(), "a good complaint of the batch was not classified"
    if entry["expect"] == "dead_letter":
        assert set(decided) == set(GOOD)
        return
    assert entry["expect"] == "classified"
    event = decided[HOSTILE_ID]
    assert "$" not in json.dumps(event.model_dump(mode="json")["data"], ensure_ascii=False)
    db = RecordingDatabase()
    await MongoClassificationStore(cast(Any, db)).save([(event, store.areas.get(HOSTILE_ID))])
    for write in db.writes:
        check_write(write)
