"""One contract for intake's store, run against the in-memory adapter and MongoDB (FerretDB).

The MongoDB variants are marked `stack`: they use the server at COMPLAINTS_MONGO when that is set,
and otherwise start (or reuse) the local stack first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from contracts import ComplaintNormalized
from contracts.read_models import COMPLAINT_RECEIPTS, COMPLAINT_TEXTS, CONTACTS, STAFF_CONTACTS
from intake.adapters.memory import InMemoryComplaintStore
from intake.adapters.mongo import MongoComplaintStore
from intake.domain import Accepted, process_raw
from intake.ports import ComplaintStore, IntakeRecord
from intake.retention import RawPayloadRetention
from servicekit.clock import FakeClock
from servicekit.read_models import read
from tests.stores import BACKENDS, Backend, backend_of, fresh_database, mongo_server

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PHONE = "13812345678"
ID_NUMBER = "110105199003071234"


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend[ComplaintStore]]:
    async with backend_of(
        request.param, InMemoryComplaintStore, MongoComplaintStore, "intake_test"
    ) as made:
        yield made


def record(external_id: str, *, at: datetime = NOW, text: str = "宽带断网三天了") -> IntakeRecord:
    raw = {
        "channel": "sms",
        "external_id": external_id,
        "received_at": at.isoformat(),
        "text": f"{text}，我的身份证{ID_NUMBER}，电话{PHONE}",
        "complainant": {"phone": PHONE, "name": "张三", "id_number": ID_NUMBER},
    }
    # Processed when it arrived (intake refuses receipt times far back from its own now).
    accepted = process_raw(json.dumps(raw, ensure_ascii=False).encode(), now=at, secret=b"k")
    assert isinstance(accepted, Accepted)
    event = ComplaintNormalized.build(
        data=accepted.complaint,
        subject=accepted.complaint.complaint_id,
        source="/complaints/intake",
        time=at,
        cause=accepted.complaint.complaint_id,
    )
    return IntakeRecord(event, accepted.contact, accepted.original, accepted.fingerprint)


async def test_a_redelivery_gets_the_stored_event_back_not_its_own(
    backend: Backend[ComplaintStore],
) -> None:
    first, other = record("S-1"), record("S-2")
    saved = await backend.store.save([first])
    assert (saved.events, saved.new) == ([first.event], {first.event.data.complaint_id})
    # Redelivered later: decided again at another time, the stored event is what comes back.
    again = record("S-1", text="宽带断网三天了，补充一句")
    assert again.event.data.complaint_id == first.event.data.complaint_id
    redelivered = await backend.store.save([again, other])
    assert redelivered.events == [first.event, other.event]
    assert redelivered.new == {other.event.data.complaint_id}
    assert await backend.store.stored([other.event.data.complaint_id, "CP20261124-NONE000000"]) == [
        other.event
    ]


async def test_an_idempotency_key_keeps_its_first_body_and_answer(
    backend: Backend[ComplaintStore],
) -> None:
    store = backend.store
    first = await store.claim_request("web:k-1", "digest-a", "CP20261124-AAAAAAAAAA")
    same = await store.claim_request("web:k-1", "digest-a", "CP20261125-BBBBBBBBBB")
    other_body = await store.claim_request("web:k-1", "digest-b", "CP20261124-CCCCCCCCCC")
    other_channel = await store.claim_request("app:k-1", "digest-b", "CP20261124-DDDDDDDDDD")
    assert (first.digest, first.complaint_id) == ("digest-a", "CP20261124-AAAAAAAAAA")
    assert same == first  # the same request again: the first answer, even another day
    assert other_body == first  # the caller compares digests and refuses (409)
    assert (other_channel.digest, other_channel.complaint_id) == (
        "digest-b",
        "CP20261124-DDDDDDDDDD",
    )
    # Apart from the (channel, external id) keys, which the complaints hold.
    assert await store.first_complaints(["web:k-1"]) == {}


async def test_a_message_is_taken_in_once_whatever_its_day(
    backend: Backend[ComplaintStore],
) -> None:
    """The (channel, external id) is unique among stored complaints: a replay received another
    day (another complaint id) that reaches `save` — another replica stored the first meanwhile
    — is not stored, and the first complaint's event comes back in its place."""
    first, other = record("S-1"), record("S-2")
    replay = record("S-1", at=NOW + timedelta(days=1))
    cid, replay_id = first.event.data.complaint_id, replay.event.data.complaint_id
    assert replay_id != cid
    assert await backend.store.first_complaints(["sms:S-1", "sms:S-2"]) == {}
    await backend.store.save([first])
    assert await backend.store.first_complaints(["sms:S-1", "sms:S-2"]) == {"sms:S-1": cid}
    saved = await backend.store.save([replay, other])
    assert saved.events == [first.event, other.event]
    assert saved.new == {other.event.data.complaint_id}
    assert await backend.store.stored([replay_id]) == []
    if backend.db is not None:  # the replay left no contact or payload of its own behind
        for name in ("contacts", "raw_payloads", "complaints"):
            assert await backend.db[name].count_documents({"_id": replay_id}) == 0


async def test_raw_payloads_are_pruned_after_their_retention(
    backend: Backend[ComplaintStore],
) -> None:
    old, new = record("S-1", at=NOW - timedelta(days=200)), record("S-2")
    await backend.store.save([old, new])
    cutoff = NOW - timedelta(days=180)
    assert await backend.store.prune_raw_payloads(before=cutoff, limit=100) == 1
    assert await backend.store.prune_raw_payloads(before=cutoff, limit=100) == 0
    # The complaint itself stays; only its raw payload went.
    assert len(await backend.store.stored([old.event.data.complaint_id])) == 1
    if backend.db is not None:
        kept = await backend.db["raw_payloads"].find({}, {"_id": 1}).to_list(None)
        assert [d["_id"] for d in kept] == [new.event.data.complaint_id]


@pytest.mark.stack
async def test_complaints_hold_the_text_once_and_no_personal_numbers() -> None:
    async with fresh_database(mongo_server(), "intake_test") as db:
        store, item = MongoComplaintStore(db), record("S-1")
        await store.save([item])
        [doc] = await db["complaints"].find({}).to_list(None)
        stored = json.dumps(doc, ensure_ascii=False, default=str)
        assert stored.count(item.event.data.text) == 1
        assert PHONE not in stored
        assert ID_NUMBER not in stored
        assert "张三" not in stored
        [raw] = await db["raw_payloads"].find({}).to_list(None)
        assert json.loads(raw["original_json"]) == item.original
        assert sorted(await db.list_collection_names()) == [
            "complaints",
            "contacts",
            "raw_payloads",
        ]  # no `complaints_published` marks, no `intake_keys` claims: three inserts


async def test_the_retention_round_prunes_in_batches_what_is_older_than_the_setting() -> None:
    store = InMemoryComplaintStore()
    await store.save([record(f"S-{i}", at=NOW - timedelta(days=181 + i)) for i in range(3)])
    await store.save([record("S-new", at=NOW - timedelta(days=179))])
    retention = RawPayloadRetention(
        store=store, clock=FakeClock(NOW), keep=timedelta(days=180), batch=2
    )
    assert await retention.run_once() == 2  # a full batch: the loop goes again at once
    assert await retention.run_once() == 1
    assert await retention.run_once() == 0
    assert len(store.raw) == 1
    assert len(store.records) == 4


@pytest.mark.stack
async def test_what_intake_stores_is_what_its_read_models_declare() -> None:
    """The owner's side of COMPLAINT_RECEIPTS, COMPLAINT_TEXTS, CONTACTS and STAFF_CONTACTS."""
    stored = record("S-1")
    data = stored.event.data
    async with fresh_database(mongo_server(), "intake_test") as db:
        await MongoComplaintStore(db).save([stored])
        (receipt,) = await read(db, COMPLAINT_RECEIPTS)
        (text,) = await read(db, COMPLAINT_TEXTS)
        (contact,) = await read(db, CONTACTS)
        (staff_contact,) = await read(db, STAFF_CONTACTS)
    assert (receipt.id, receipt.external_id, receipt.channel) == (data.complaint_id, "S-1", "sms")
    assert receipt.received_at == data.received_at
    assert text.text == data.text
    assert ID_NUMBER not in text.text  # the masked text
    assert (contact.id, contact.phone_e164) == (data.complaint_id, "+86" + PHONE)
    assert (staff_contact.phone_e164, staff_contact.name) == ("+86" + PHONE, "张三")
