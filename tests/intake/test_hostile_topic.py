"""Hostile input on `complaints.raw.v1`, through intake's real subscription on a test broker.

Each entry travels in one consumed batch between two good complaints: it is dead-lettered with its
reason or accepted with its text kept inert, the good ones are published either way, and nothing
an accepted entry carries reaches MongoDB as an operator or a path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import TypeAdapter

from contracts import ComplaintNormalized, Topic
from intake.adapters.memory import InMemoryComplaintStore
from intake.adapters.mongo import MongoComplaintStore
from intake.app import Ports, create_app
from intake.settings import IntakeSettings
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

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CORPUS = Path(__file__).parent / "corpus"
NORMALIZED = TypeAdapter(ComplaintNormalized)
GOOD_TEXT = "宽带从昨天晚上开始一直断网，师傅说今天上门结果到现在也没有来，耽误了我在家办公"


def good(external_id: str) -> bytes:
    body = {"channel": "web", "external_id": external_id, "text": GOOD_TEXT}
    return json.dumps(body, ensure_ascii=False).encode()


def _domain_corpus() -> list[Any]:
    """The domain corpus (tests/intake/corpus/hostile.jsonl): every entry is dead-lettered."""
    lines = (CORPUS / "hostile.jsonl").read_text(encoding="utf-8").splitlines()
    found = [json.loads(line) for line in lines if line.strip()]
    return [
        pytest.param(
            {**e, "id": e["name"], "why": e["name"], "expect": "dead_letter"}, id=e["name"]
        )
        for e in found
    ]


class Intake:
    """The intake app on a test broker, with its in-memory store."""

    def __init__(self, rig: ServiceOnBroker, store: InMemoryComplaintStore) -> None:
        self.rig = rig
        self.store = store

    def published(self) -> list[ComplaintNormalized]:
        return self.rig.events(Topic.NORMALIZED, NORMALIZED)


@pytest.fixture
async def intake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Intake]:
    without_retry_sleeps(monkeypatch)
    settings = IntakeSettings()
    settings.kafka.create_topics = False
    store = InMemoryComplaintStore()
    app = create_app(settings, Ports(store=store, clock=FakeClock(NOW)))
    async with ServiceOnBroker(app, collect=[Topic.NORMALIZED]) as rig:
        yield Intake(rig, store)


async def _between_good_ones(intake: Intake, entry: Entry) -> bytes:
    hostile = payload(entry)
    await intake.rig.batch(Topic.RAW, [good("GOOD-1"), hostile, good("GOOD-2")])
    assert_dead_letters(entry, hostile, intake.rig.dead_letters())
    external = {e.data.external_id for e in intake.published()}
    assert {"GOOD-1", "GOOD-2"} <= external, "a good complaint of the batch was not published"
    return hostile


@pytest.mark.parametrize("entry", _domain_corpus())
async def test_domain_corpus_on_the_topic(intake: Intake, entry: Entry) -> None:
    await _between_good_ones(intake, entry)
    assert len(intake.published()) == 2


@pytest.mark.parametrize("entry", corpus(CORPUS / "raw_topic.jsonl"))
async def test_raw_topic_corpus(intake: Intake, entry: Entry) -> None:
    await _between_good_ones(intake, entry)
    others = [e for e in intake.published() if e.data.external_id not in {"GOOD-1", "GOOD-2"}]
    if entry["expect"] == "dead_letter":
        assert others == []
        return
    assert entry["expect"] == "accepted"
    [event] = others
    for kept in entry["keeps"]:
        assert kept in event.data.text, f"{kept!r} was not kept as text"
    record = intake.store.records[event.data.complaint_id]
    await _stored_inert(record.event.data.complaint_id, intake.store)


async def _stored_inert(complaint_id: str, store: InMemoryComplaintStore) -> None:
    """What the Mongo adapter would write for the record holds no operator or path, and the
    channel's payload is kept whole as JSON text."""
    db = RecordingDatabase()
    record = store.records[complaint_id]
    await MongoComplaintStore(cast(Any, db)).save([record])
    assert db.writes
    for write in db.writes:
        check_write(write)
    [raw] = [w for w in db.writes if w.collection == "raw_payloads"]
    original = raw.update["original_json"]
    assert isinstance(original, str)
    assert json.loads(original) == record.original
    [complaint] = [w for w in db.writes if w.collection == "complaints"]
    assert "original_json" not in complaint.update
