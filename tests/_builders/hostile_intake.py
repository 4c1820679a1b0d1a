"""Intake in the hostile-topic suite: `complaints.raw.v1` (tests/intake/corpus/)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
from tests._builders.hostile import Entry, RecordingDatabase, ServiceOnBroker, check_write, entries
from tests._builders.topic_target import TopicTarget

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[1] / "intake" / "corpus"
NORMALIZED = TypeAdapter(ComplaintNormalized)
GOOD_TEXT = "宽带从昨天晚上开始一直断网，师傅说今天上门结果到现在也没有来，耽误了我在家办公"
GOOD = ("GOOD-1", "GOOD-2")


def good(external_id: str) -> bytes:
    """A valid web complaint with this external reference."""
    body = {"channel": "web", "external_id": external_id, "text": GOOD_TEXT}
    return json.dumps(body, ensure_ascii=False).encode()


def domain_entries() -> list[Entry]:
    """The domain corpus (hostile.jsonl) as topic entries: every one is dead-lettered."""
    lines = (CORPUS / "hostile.jsonl").read_text(encoding="utf-8").splitlines()
    found = [json.loads(line) for line in lines if line.strip()]
    return [
        {**e, "id": e["name"], "why": e["name"], "expect": "dead_letter", "corpus": "domain"}
        for e in found
    ]


@dataclass
class Intake:
    """The intake app on a test broker, with its in-memory store."""

    rig: ServiceOnBroker
    store: InMemoryComplaintStore

    def published(self) -> list[ComplaintNormalized]:
        """The normalised complaints it published."""
        return self.rig.events(Topic.NORMALIZED, NORMALIZED)


class IntakeTarget(TopicTarget):
    """Raw channel messages: dead-lettered with a reason, or accepted with their text inert."""

    service = "intake"

    def entries(self) -> Sequence[Entry]:
        return [*domain_entries(), *entries(CORPUS / "raw_topic.jsonl")]

    def topic(self, entry: Entry) -> Topic:
        return Topic.RAW

    def good(self, entry: Entry) -> tuple[bytes, bytes]:
        return good(GOOD[0]), good(GOOD[1])

    @asynccontextmanager
    async def running(self, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Intake]:
        settings = IntakeSettings()
        settings.kafka.create_topics = False
        store = InMemoryComplaintStore()
        app = create_app(settings, Ports(store=store, clock=FakeClock(NOW)))
        async with ServiceOnBroker(app, collect=[Topic.NORMALIZED]) as rig:
            yield Intake(rig, store)

    async def verdict(self, service: Intake, entry: Entry, hostile: bytes) -> None:
        external = {e.data.external_id for e in service.published()}
        assert set(GOOD) <= external, "a good complaint of the batch was not published"
        others = [e for e in service.published() if e.data.external_id not in GOOD]
        if entry["expect"] == "dead_letter":
            assert others == []
            return
        assert entry["expect"] == "accepted"
        [event] = others
        for kept in entry["keeps"]:
            assert kept in event.data.text, f"{kept!r} was not kept as text"
        await stored_inert(event.data.complaint_id, service.store)


async def stored_inert(complaint_id: str, store: InMemoryComplaintStore) -> None:
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
