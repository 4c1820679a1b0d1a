"""One contract for the notifier's state, run against the in-memory adapters and MongoDB.

The MongoDB variants are marked `stack`: they use the server at COMPLAINTS_MONGO when that is set,
and otherwise start (or reuse) the local stack first.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Audience, DeliveryStatus, Severity
from contracts.read_models import CASE_DELIVERIES, NOTIFICATION_OUTCOMES
from notifier.adapters.memory import InMemoryCaseBook, InMemoryIncidentBook, InMemoryNotificationLog
from notifier.adapters.mongo import MongoNotificationLog
from notifier.adapters.mongo_documents import claim_document, delivery_from, outcome_from
from notifier.adapters.mongo_incidents import MongoIncidentBook
from notifier.adapters.mongo_recipients import (
    MongoCaseBook,
    MongoContactBook,
    MongoStaffDirectory,
)
from notifier.domain import (
    Assignment,
    CustomerContact,
    Delivery,
    IncidentMember,
    Intent,
    Origin,
    Recipient,
    parse_directory,
)
from notifier.ports import CaseBook, Claims, DueRound, IncidentBook, NotificationLog, Outcome
from servicekit.clock import FakeClock
from servicekit.metrics import KitMetrics
from servicekit.mongo import Document, open_client
from servicekit.read_models import read, tally
from servicekit.settings import MongoSettings
from tests.notifier.rig import CID, CID2, NOW, PHONE
from tests.stores import fresh_database, mongo_server

LEASE = timedelta(minutes=2)


@dataclass
class Backend:
    """Two replicas' logs over one store, and a case book."""

    first: NotificationLog
    second: NotificationLog
    cases: CaseBook


@pytest.fixture(scope="module")
def mongo_url() -> str:
    """COMPLAINTS_MONGO if given, else the local stack (started if needed)."""
    return mongo_server()


@pytest.fixture
async def mongo_db(mongo_url: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database for one test."""
    async with fresh_database(mongo_url, "notifier_test") as db:
        yield db


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.stack)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """The in-memory adapters, or the MongoDB ones over a fresh database."""
    if request.param == "memory":
        log = InMemoryNotificationLog()
        yield Backend(log, log, InMemoryCaseBook())
        return
    async with fresh_database(request.getfixturevalue("mongo_url"), "notifier_test") as db:
        first, second = MongoNotificationLog(db), MongoNotificationLog(db)
        await first.ensure_indexes()
        yield Backend(first, second, MongoCaseBook(db))


def delivery(cid: str = CID, audience: Audience = Audience.CUSTOMER) -> Delivery:
    intent = Intent(
        key=f"{cid}:breached:resolution#1:100:{audience.value}",
        complaint_id=cid,
        audience=audience,
        template="customer_delay",
        trigger_time=NOW,
        context={"case": cid, "due": "2026-11-27 18:00"},
        severity=Severity.P3,
        digestible=audience is not Audience.CUSTOMER,
        origin=Origin("complaints.sla.v1", 2, 41),
    )
    return Delivery(intent.key, intent, Recipient("customer", "sms", PHONE, "+86138****5678"))


def outcome(
    d: Delivery,
    status: DeliveryStatus,
    *,
    attempts: int = 1,
    latency_ms: float | None = None,
    deliver_after: datetime | None = None,
) -> Outcome:
    return Outcome(d, "sms", status, attempts, None, latency_ms, deliver_after)


async def test_a_key_is_claimed_by_one_replica_only(backend: Backend) -> None:
    deliveries = [delivery(CID), delivery(CID2)]
    got_first = await backend.first.claim(deliveries, now=NOW, lease_until=NOW + LEASE)
    got_second = await backend.second.claim(deliveries, now=NOW, lease_until=NOW + LEASE)
    assert [d.key for d in got_first.claimed] == [d.key for d in deliveries]
    assert got_second == Claims([], [], held=2)


async def test_a_sending_claim_is_taken_over_only_after_its_lease(backend: Backend) -> None:
    d = delivery()
    await backend.first.claim([d], now=NOW, lease_until=NOW + LEASE)
    later = NOW + timedelta(minutes=1)
    assert await backend.second.claim([d], now=later, lease_until=later + LEASE) == Claims(
        [], [], held=1
    )
    expired = NOW + LEASE
    taken = await backend.second.claim([d], now=expired, lease_until=expired + LEASE)
    assert taken == Claims([d], [])
    assert (await backend.first.claim([d], now=expired, lease_until=expired + LEASE)).held == 1


async def test_a_claim_of_a_settled_key_returns_the_stored_outcome_for_its_receipt(
    backend: Backend,
) -> None:
    d, other = delivery(), delivery(CID2)
    await backend.first.claim([d], now=NOW, lease_until=NOW + LEASE)
    settled_at = NOW + timedelta(seconds=3)
    await backend.first.complete(
        [outcome(d, DeliveryStatus.DELIVERED, attempts=2, latency_ms=1500.0)], now=settled_at
    )
    later = NOW + timedelta(hours=1)
    claims = await backend.second.claim([d, other], now=later, lease_until=later + LEASE)
    assert claims.claimed == [other]
    [stored] = claims.settled
    assert (stored.status, stored.attempts, stored.latency_ms, stored.settled_at) == (
        DeliveryStatus.DELIVERED,
        2,
        3000.0,  # trigger to stored outcome, as its first receipt said (not the sender's 1500)
        settled_at,  # the receipt's time: a republished receipt is the same event
    )
    assert stored.recipient == "+86138****5678"
    assert stored.intent.origin == Origin("complaints.sla.v1", 2, 41)
    assert await backend.first.next_due_at() == NOW + timedelta(hours=1) + LEASE  # `other`


async def test_a_deferred_delivery_is_leased_once_when_due_with_everything_to_send_it(
    backend: Backend,
) -> None:
    d = delivery()
    due_at = NOW + timedelta(hours=9)
    await backend.first.claim([d], now=NOW, lease_until=NOW + LEASE)
    await backend.first.complete(
        [outcome(d, DeliveryStatus.DEFERRED, attempts=0, deliver_after=due_at)], now=NOW
    )
    assert await backend.first.next_due_at() == due_at
    early = due_at - timedelta(seconds=1)
    none_yet = await backend.first.claim_due(now=early, lease_until=early + LEASE, limit=10)
    assert (none_yet.due, none_yet.next_due_at) == ([], due_at)  # the round saw when, no read
    got_first = await backend.first.claim_due(now=due_at, lease_until=due_at + LEASE, limit=10)
    got_second = await backend.second.claim_due(now=due_at, lease_until=due_at + LEASE, limit=10)
    assert (got_second.due, got_second.next_due_at) == ([], due_at + LEASE)
    [due] = got_first.due
    assert got_first.next_due_at == due_at + LEASE  # its own lease, if it dies sending
    assert due.delivery == d  # the address, values, origin and severity came back
    assert await backend.first.next_due_at() == due_at + LEASE
    # The dispatcher died: after the lease another replica takes it.
    after = due_at + LEASE
    [again] = (await backend.second.claim_due(now=after, lease_until=after + LEASE, limit=10)).due
    assert again.delivery.key == d.key
    await backend.second.complete([outcome(d, DeliveryStatus.DELIVERED)], now=after)
    assert await backend.first.next_due_at() is None
    assert await backend.first.claim_due(now=after, lease_until=after + LEASE, limit=10) == (
        DueRound([], None)
    )


async def test_an_abandoned_claim_becomes_due_when_its_lease_ends(backend: Backend) -> None:
    d = delivery(audience=Audience.HANDLER)
    await backend.first.claim([d], now=NOW, lease_until=NOW + LEASE)
    found = await backend.second.claim_due(now=NOW + LEASE, lease_until=NOW + 2 * LEASE, limit=5)
    [due] = found.due
    assert (due.delivery, due.held_for) == (d, None)


async def test_a_renewed_claim_is_not_due_until_its_new_lease_ends(backend: Backend) -> None:
    d, settled = delivery(CID), delivery(CID2)
    await backend.first.claim([d, settled], now=NOW, lease_until=NOW + LEASE)
    await backend.first.complete([outcome(settled, DeliveryStatus.DELIVERED)], now=NOW)
    renewed = NOW + LEASE - timedelta(seconds=1)
    await backend.first.extend([d.key, settled.key], lease_until=renewed + LEASE)
    at_old_end = NOW + LEASE
    none = await backend.second.claim_due(now=at_old_end, lease_until=at_old_end, limit=5)
    assert none == DueRound([], renewed + LEASE)
    assert await backend.first.next_due_at() == renewed + LEASE
    # A settled key is never made waiting again by a late renewal.
    [due] = (
        await backend.second.claim_due(
            now=renewed + LEASE, lease_until=renewed + 2 * LEASE, limit=5
        )
    ).due
    assert due.delivery.key == d.key


@pytest.mark.stack
async def test_due_deliveries_are_leased_earliest_first_across_statuses_and_batches(
    backend: Backend,
) -> None:
    """More due rows than a first short read holds, deferred and abandoned mixed, and rows in
    flight that are not due: the earliest due ones come, up to the limit, and nothing else."""
    many = [delivery(f"C-{n:03d}") for n in range(45)]
    await backend.first.claim(many, now=NOW, lease_until=NOW + LEASE)
    deferred = many[:30]  # due one second apart from NOW + 1 s, after the abandoned ones
    for n, d in enumerate(deferred):
        after = NOW + LEASE + timedelta(seconds=1 + n)
        await backend.first.complete(
            [outcome(d, DeliveryStatus.DEFERRED, deliver_after=after)], now=NOW
        )
    live = [delivery(f"L-{n:03d}") for n in range(5)]  # being sent, lease far ahead
    later = NOW + timedelta(hours=1)
    await backend.first.claim(live, now=later, lease_until=later + LEASE)
    now = NOW + LEASE + timedelta(seconds=20)  # abandoned 15 + deferred 20 are due
    assert await backend.first.next_due_at() == NOW + LEASE  # the abandoned claims' lease end
    got = await backend.second.claim_due(now=now, lease_until=now + LEASE, limit=25)
    assert got.next_due_at is not None
    assert got.next_due_at <= now  # ten more are due: the next round goes at once
    keys = [d.delivery.key for d in got.due]
    assert set(keys[:15]) == {d.key for d in many[30:]}  # abandoned: one lease end, any order
    assert keys[15:] == [d.key for d in deferred[:10]]
    rest = await backend.first.claim_due(now=now, lease_until=now + LEASE, limit=100)
    assert [d.delivery.key for d in rest.due] == [d.key for d in deferred[10:20]]
    assert {d.held_for for d in rest.due} == {None}  # outcome() records no reason
    assert rest.next_due_at == NOW + LEASE + timedelta(seconds=21)  # deferred[20], not due yet


async def test_an_outcome_decided_before_sending_is_stored_by_the_claim_itself(
    backend: Backend,
) -> None:
    """Quiet hours and no recipient: the claim's insert carries the outcome (no `complete`);
    the deferred one comes due at its end with its reason, a redelivery finds both settled."""
    morning = NOW + timedelta(hours=8)
    quiet, nobody, normal = delivery(CID), delivery(CID2), delivery("CP20261124-0000000099")
    nobody = replace(nobody, recipient=None)
    decided = {
        quiet.key: Outcome(quiet, "sms", DeliveryStatus.DEFERRED, 0, "quiet_hours", None, morning),
        nobody.key: Outcome(nobody, "none", DeliveryStatus.FAILED, 0, "no_contact", None),
    }
    claims = await backend.first.claim(
        [quiet, nobody, normal], now=NOW, lease_until=NOW + LEASE, decided=decided
    )
    assert [d.key for d in claims.claimed] == [normal.key]
    assert [(o.key, o.status, o.settled_at) for o in claims.decided] == [
        (quiet.key, DeliveryStatus.DEFERRED, NOW),
        (nobody.key, DeliveryStatus.FAILED, NOW),
    ]
    again = await backend.second.claim(
        [quiet, nobody], now=NOW, lease_until=NOW + LEASE, decided=decided
    )
    assert (again.claimed, again.decided) == ([], [])
    assert sorted((o.key, o.status, o.settled_at) for o in again.settled) == sorted(
        (o.key, o.status, o.settled_at) for o in claims.decided
    )  # the same receipts again
    await backend.first.complete([outcome(normal, DeliveryStatus.DELIVERED)], now=NOW)
    assert await backend.first.next_due_at() == morning
    [due] = (await backend.second.claim_due(now=morning, lease_until=morning + LEASE, limit=10)).due
    assert (due.delivery.key, due.held_for) == (quiet.key, "quiet_hours")
    assert due.delivery.recipient is not None
    assert due.delivery.recipient.address == PHONE  # kept to send it in the morning


async def test_a_key_sent_first_is_looked_up_then_stored_once_with_its_outcome(
    backend: Backend,
) -> None:
    """ADR 0038: a `send_first` key is only looked up (nothing written before the send); its
    outcome's insert is the one write. A replica that raced it finds the stored outcome (its
    receipt stands), or None while another sender holds the key's claim."""
    sent, racing, claimed = delivery(CID), delivery(CID2), delivery("CP20261124-0000000099")
    claims = await backend.first.claim(
        [sent, claimed], now=NOW, lease_until=NOW + LEASE, send_first={sent.key}
    )
    assert ([d.key for d in claims.fresh], [d.key for d in claims.claimed]) == (
        [sent.key],
        [claimed.key],
    )
    assert await backend.first.next_due_at() == NOW + LEASE  # the claim's lease only
    again = await backend.second.claim(
        [sent], now=NOW, lease_until=NOW + LEASE, send_first={sent.key}
    )
    assert [d.key for d in again.fresh] == [sent.key]  # nothing stored yet: both may send
    done = replace(outcome(sent, DeliveryStatus.DELIVERED, attempts=1), fresh=True)
    assert await backend.first.complete([done], now=NOW) == {}
    late = replace(outcome(sent, DeliveryStatus.DELIVERED, attempts=2), fresh=True)
    [(key, stored)] = (await backend.second.complete([late], now=NOW + LEASE)).items()
    assert stored is not None
    assert (key, stored.status, stored.attempts, stored.settled_at) == (
        sent.key,
        DeliveryStatus.DELIVERED,
        1,
        NOW,
    )  # the first outcome stands, with its receipt's time
    held = replace(outcome(claimed, DeliveryStatus.DELIVERED), fresh=True)
    assert await backend.second.complete([held], now=NOW) == {claimed.key: None}
    redelivered = await backend.second.claim(
        [sent], now=NOW + LEASE, lease_until=NOW + 2 * LEASE, send_first={sent.key}
    )
    assert (redelivered.fresh, redelivered.claimed) == ([], [])
    assert [(o.key, o.attempts, o.settled_at) for o in redelivered.settled] == [(sent.key, 1, NOW)]
    # A channel down: the fresh outcome waits, and comes due like any deferral.
    wait = NOW + timedelta(minutes=5)
    down = Outcome(racing, "sms", DeliveryStatus.DEFERRED, 3, "channel_unavailable", None, wait)
    assert await backend.first.complete([replace(down, fresh=True)], now=NOW) == {}
    due = await backend.first.claim_due(now=wait, lease_until=wait + LEASE, limit=10)
    assert [(d.delivery.key, d.held_for) for d in due.due] == [
        (claimed.key, None),
        (racing.key, "channel_unavailable"),
    ]


@pytest.mark.stack
async def test_a_delivery_sent_first_is_stored_as_a_settled_claim_would_be(
    mongo_db: AsyncDatabase[Document],
) -> None:
    log, d = MongoNotificationLog(mongo_db), delivery()
    other = delivery(CID2)
    await log.claim([other], now=NOW, lease_until=NOW + LEASE)
    await log.complete([outcome(other, DeliveryStatus.DELIVERED)], now=NOW)
    fresh = replace(outcome(d, DeliveryStatus.DELIVERED), fresh=True)
    assert await log.complete([fresh], now=NOW) == {}
    doc = await mongo_db["notifications"].find_one({"_id": d.key})
    claimed = await mongo_db["notifications"].find_one({"_id": other.key})
    assert doc is not None
    assert claimed is not None
    assert set(doc) == set(claimed)  # the read models read the same fields, no address kept
    assert (doc["status"], doc["completed_at"], doc["claimed_at"]) == ("delivered", NOW, NOW)
    assert d.recipient is not None
    assert delivery_from(doc) == replace(d, recipient=replace(d.recipient, address=""))


@pytest.mark.stack
async def test_the_address_is_forgotten_once_the_delivery_is_settled(
    mongo_db: AsyncDatabase[Document],
) -> None:
    log, d = MongoNotificationLog(mongo_db), delivery()
    await log.claim([d], now=NOW, lease_until=NOW + LEASE)
    doc = await mongo_db["notifications"].find_one({"_id": d.key})
    assert doc is not None
    assert doc["address"] == PHONE
    await log.complete([outcome(d, DeliveryStatus.DELIVERED)], now=NOW)
    doc = await mongo_db["notifications"].find_one({"_id": d.key})
    assert doc is not None
    assert "address" not in doc
    # ADR 0032: what a settled one keeps, plain: the read models' and the outcome's fields.
    assert set(doc) == {
        *("_id", "complaint_id", "audience", "template", "status", "claimed_at"),
        *("lease_until", "x", "channel", "attempts", "completed_at"),
    }


@pytest.mark.parametrize(
    "variant",
    ["customer", "staff", "no recipient", "no origin", "acknowledgement", "erased address"],
)
def test_a_claim_document_gives_back_the_delivery_it_was_made_of(variant: str) -> None:
    """ADR 0032: the packed text and the plain fields together are the whole delivery."""
    d = delivery(audience=Audience.HANDLER if variant == "staff" else Audience.CUSTOMER)
    intent = replace(d.intent, trigger_time=NOW + timedelta(microseconds=123_456))
    if variant == "staff":
        d = replace(d, key=f"{d.key}:desk-7")  # one intent, a delivery per staff recipient
    if variant == "no origin":
        intent = replace(intent, origin=None, severity=None, context={"引用": '他说"别再打了"\\'})
    if variant == "acknowledgement":
        intent = replace(intent, acknowledgement=True, digestible=True)
    d = replace(d, intent=intent)
    if variant == "no recipient":
        d = replace(d, recipient=None)
    doc = claim_document(d, now=NOW, lease_until=NOW + LEASE)
    if variant == "erased address":  # the erasure drops the address (ADR 0017)
        del doc["address"]
        assert d.recipient is not None
        d = replace(d, recipient=replace(d.recipient, address=""))
    assert delivery_from(doc) == d
    assert _elements(doc) <= 12  # 26 as every field plain (intent, context, origin, recipient)


def test_a_document_stored_with_every_field_plain_is_still_read() -> None:
    """Documents claimed before ADR 0032 (a deferral waiting for the morning) still resend."""
    d = delivery()
    assert d.recipient is not None
    plain = {
        "_id": d.key,
        "intent_key": d.intent.key,
        "complaint_id": d.intent.complaint_id,
        "audience": d.intent.audience.value,
        "template": d.intent.template,
        "context": dict(d.intent.context),
        "severity": "P3",
        "digestible": False,
        "acknowledgement": False,
        "trigger_time": d.intent.trigger_time,
        "origin": {"topic": "complaints.sla.v1", "partition": 2, "offset": 41},
        "recipient": {"id": "customer", "channel": "sms", "shown": d.recipient.shown},
        "address": PHONE,
        "status": "deferred",
        "channel": "sms",
        "attempts": 0,
        "reason": "quiet_hours",
        "deliver_after": NOW,
        "completed_at": NOW,
    }
    assert delivery_from(plain) == d
    assert outcome_from(plain).reason == "quiet_hours"


def _elements(value: object) -> int:
    if isinstance(value, dict):
        return sum(1 + _elements(v) for v in value.values())
    return 0


async def test_the_newest_assignment_wins(backend: Backend) -> None:
    newer = Assignment(CID, "h-2", "network", NOW + timedelta(hours=1))
    older = Assignment(CID, "h-1", "billing", NOW)
    await backend.cases.record([newer])
    await backend.cases.record([older])
    assert await backend.cases.assignments([CID, CID2]) == {CID: newer}


@pytest.mark.stack
async def test_mongo_contacts_and_staff_collection(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db["contacts"].insert_many(
        [
            {"_id": CID, "phone_e164": PHONE, "email": None},
            {"_id": CID2, "phone_e164": None, "email": "a@example.com"},
        ]
    )
    contacts = await MongoContactBook(mongo_db).contacts([CID, CID2, "CP20261124-0000000003"])
    assert contacts == {
        CID: CustomerContact(PHONE, None),
        CID2: CustomerContact(None, "a@example.com"),
    }
    clock = FakeClock(NOW)
    static = parse_directory([{"id": "desk", "audiences": ["handler"], "channel": "webhook"}])
    directory = MongoStaffDirectory(mongo_db, static=static, clock=clock)
    assert [e.id for e in await directory.entries()] == ["desk"]
    await mongo_db["staff"].insert_many(
        [
            {"_id": "desk", "audiences": ["handler"], "channel": "wecom"},
            {"_id": "lead", "audiences": ["team_lead"], "channel": "webhook"},
        ]
    )
    assert [e.channel for e in await directory.entries()] == ["webhook"]  # cached a minute
    clock.advance(timedelta(minutes=1))
    assert sorted((e.id, e.channel) for e in await directory.entries()) == [
        ("desk", "wecom"),
        ("lead", "webhook"),
    ]


async def test_a_claimed_key_tells_its_template(backend: Backend) -> None:
    d = delivery()
    await backend.first.claim([d], now=NOW, lease_until=NOW + LEASE)
    assert await backend.second.templates([d.key, "nobody:ack:-:-:customer"]) == {
        d.key: "customer_delay"
    }


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.stack)])
async def incident_book(request: pytest.FixtureRequest) -> AsyncIterator[IncidentBook]:
    """Incident membership in memory, or in MongoDB over a fresh database."""
    if request.param == "memory":
        yield InMemoryIncidentBook()
        return
    async with fresh_database(request.getfixturevalue("mongo_url"), "notifier_test") as db:
        yield MongoIncidentBook(db)


async def test_incident_members_join_are_found_and_leave(incident_book: IncidentBook) -> None:
    first = IncidentMember(CID, "network|*|x", "network/no_signal", NOW)
    await incident_book.join([first, IncidentMember(CID2, "network|*|x", "network", NOW)])
    await incident_book.join([IncidentMember(CID, "network|*|y", "network/no_signal", NOW)])
    found = await incident_book.members([CID, CID2, "CP20261124-0000000099"])
    assert set(found) == {CID, CID2}
    assert found[CID].incident_id == "network|*|y"
    assert found[CID].first_seen == NOW
    await incident_book.leave([CID])
    assert set(await incident_book.members([CID, CID2])) == {CID2}


@pytest.mark.stack
async def test_the_per_complaint_path_is_batched_and_writes_each_outcome_once(
    mongo_url: str,
) -> None:
    """Claim, complete and a redelivered claim: no single-document command, one update
    statement for the alike outcomes of a batch (the receipt needs no second write), and
    claiming twice reads once."""
    registry = CollectorRegistry()
    name = f"notifier_test_{uuid.uuid4().hex[:10]}"
    settings = MongoSettings(url=SecretStr(mongo_url), database=name)
    client = open_client(settings, app_name="test", metrics=KitMetrics(registry, "probe"))
    deliveries = [delivery(f"CP20261124-00000000{i:02d}") for i in range(5)]
    try:
        log = MongoNotificationLog(client[name])
        claims = await log.claim(deliveries, now=NOW, lease_until=NOW + LEASE)
        done = [outcome(d, DeliveryStatus.DELIVERED) for d in claims.claimed[:4]]
        failed = outcome(claims.claimed[4], DeliveryStatus.FAILED)
        await log.complete([*done, failed], now=NOW)
        again = await log.claim(deliveries, now=NOW, lease_until=NOW + LEASE)
    finally:
        await client.drop_database(name)
        await client.close()
    assert (len(claims.claimed), len(again.settled)) == (5, 5)
    assert sorted(o.status for o in again.settled) == [DeliveryStatus.DELIVERED] * 4 + [
        DeliveryStatus.FAILED
    ]

    def ops(metric: str, command: str) -> float:
        labels = {"service": "probe", "command": command, "collection": "notifications"}
        return registry.get_sample_value(metric, labels) or 0.0

    commands = ("insert", "update", "find", "findAndModify", "delete")
    assert [ops("complaints_mongo_single_commands_total", c) for c in commands] == [0] * 5
    assert ops("complaints_mongo_commands_total", "insert") == 10  # claimed twice
    assert ops("complaints_mongo_commands_total", "update") == 2  # one per kind of outcome
    assert ops("complaints_mongo_commands_total", "find") == 1  # the taken keys, read once


@pytest.mark.stack
async def test_what_the_notifier_stores_is_what_its_read_model_declares(
    mongo_db: AsyncDatabase[Document],
) -> None:
    """The owner's side of NOTIFICATION_OUTCOMES and CASE_DELIVERIES (ADR 0008)."""
    log = MongoNotificationLog(mongo_db)
    claims = await log.claim([delivery(CID), delivery(CID2)], now=NOW, lease_until=NOW + LEASE)
    await log.complete([outcome(claims.claimed[0], DeliveryStatus.DELIVERED)], now=NOW)
    outcomes = await read(mongo_db, NOTIFICATION_OUTCOMES)
    assert sorted(o.id for o in outcomes) == sorted(d.key for d in claims.claimed)
    assert await tally(mongo_db, NOTIFICATION_OUTCOMES, "status") == {
        "delivered": 1,
        "sending": 1,
    }
    # CASE_DELIVERIES (the SLA's case API): both rows validate, the settled one is complete.
    rows = {row.id: row for row in await read(mongo_db, CASE_DELIVERIES)}
    settled = rows[claims.claimed[0].key]
    assert (settled.complaint_id, settled.channel, settled.completed_at) == (CID, "sms", NOW)
    assert rows[claims.claimed[1].key].completed_at is None
