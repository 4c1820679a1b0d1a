"""The classifier in the hostile-topic suite: `complaints.normalized.v1` (classifier/corpus/)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, cast

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
from tests._builders.hostile import Entry, RecordingDatabase, ServiceOnBroker, check_write, entries
from tests._builders.topic_target import TopicTarget

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CORPUS = Path(__file__).resolve().parents[1] / "classifier" / "corpus" / "normalized.jsonl"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
HOSTILE = "CP20261124-0000000099"
GOOD = ("CP20261124-0000000001", "CP20261124-0000000002")
CLASSIFIED = TypeAdapter(ComplaintClassified)
TEXT = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"


def normalized(complaint_id: str, text: str = TEXT) -> ComplaintNormalized:
    """A normalised hotline complaint as intake publishes it."""
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


@cache
def telecom() -> Classifier:
    """The shipped pack, loaded once for the whole suite."""
    return Classifier.load(policy_dir=POLICIES, pack="telecom")


@dataclass
class Running:
    """The classifier app on a test broker, with its in-memory store."""

    rig: ServiceOnBroker
    store: InMemoryClassificationStore


class ClassifierTarget(TopicTarget):
    """Normalised complaints: dead-lettered with a reason, or classified with their text kept."""

    service = "classifier"
    bases: ClassVar[Mapping[str, Any]] = {
        "normalized": json.loads(normalized(HOSTILE).model_dump_json())
    }

    def entries(self) -> Sequence[Entry]:
        return entries(CORPUS)

    def topic(self, entry: Entry) -> Topic:
        return Topic.NORMALIZED

    def good(self, entry: Entry) -> tuple[bytes, bytes]:
        first, second = (normalized(cid).model_dump_json().encode() for cid in GOOD)
        return first, second

    @asynccontextmanager
    async def running(self, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
        pack = telecom()
        monkeypatch.setattr(Classifier, "load", lambda **_: pack)
        settings = ClassifierSettings(policy_dir=POLICIES)
        settings.kafka.create_topics = False
        store = InMemoryClassificationStore()
        app = create_app(settings, Ports(store=store, clock=FakeClock(NOW)))
        async with ServiceOnBroker(app, collect=[Topic.CLASSIFIED]) as rig:
            yield Running(rig, store)

    async def verdict(self, service: Running, entry: Entry, hostile: bytes) -> None:
        decided = {e.data.complaint_id: e for e in service.rig.events(Topic.CLASSIFIED, CLASSIFIED)}
        assert set(GOOD) <= decided.keys(), "a good complaint of the batch was not classified"
        if entry["expect"] == "dead_letter":
            assert set(decided) == set(GOOD)
            return
        assert entry["expect"] == "classified"
        event = decided[HOSTILE]
        assert "$" not in json.dumps(event.model_dump(mode="json")["data"], ensure_ascii=False)
        db = RecordingDatabase()
        area = service.store.areas.get(HOSTILE)
        await MongoClassificationStore(cast(Any, db)).save([(event, area)])
        for write in db.writes:
            check_write(write)
