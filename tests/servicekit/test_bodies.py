"""servicekit.bodies: each record decoded once into its subscriber's contract type, through
FastStream's own decoder hook; what does not decode is dead-lettered with a reason."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry

from contracts import (
    CaseActionTaken,
    ComplaintNormalized,
    LifecycleEvent,
    MessageDeadLettered,
    Topic,
)
from servicekit.bodies import Body, Received, deliver
from servicekit.delivery import Inbound, Rejection
from servicekit.settings import KafkaSettings
from servicekit.signing import SigningSettings, Verifier
from servicekit.subscriptions import On, subscribe
from tests._builders.delivery import CollectingBroker, policy

EXAMPLES = files("contracts") / "examples"
NORMALIZED = Body.of(ComplaintNormalized)
LIFECYCLE = Body.union(LifecycleEvent, "lifecycle event", plausible=False)


def example(name: str) -> bytes:
    return (EXAMPLES / f"{name}.json").read_bytes()


def record(value: bytes, offset: int = 0) -> Inbound:
    return Inbound(Topic.NORMALIZED.value, 0, offset, None, value, 0)


def test_a_body_is_decoded_once_into_its_contract_type() -> None:
    good = example("cn.complaints.normalized.v1")
    items, refused = NORMALIZED.decode([record(good, 1), record(b"{", 2)])
    [item] = items
    assert isinstance(item.body, ComplaintNormalized)
    assert (item.offset, item.value) == (1, good)  # the record travels with its body
    assert [(r.message.offset, r.reason, r.detail) for r in refused] == [
        (2, "invalid_event", "not a cn.complaints.normalized.v1: 1 validation errors")
    ]


def test_a_time_outside_the_pipeline_s_range_is_refused_where_the_body_says_so() -> None:
    event = json.loads(example("cn.complaints.normalized.v1"))
    event["data"]["received_at"] = "9999-12-31T00:00:00Z"
    dated = json.dumps(event).encode()
    _, [refused] = NORMALIZED.decode([record(dated)])
    assert (refused.reason, refused.detail) == (
        "implausible_time",
        "data.received_at lies outside 2000-01-01 .. 2100-01-01",
    )
    lenient = Body.of(ComplaintNormalized, plausible=False)
    assert [i.body.data.received_at.year for i in lenient.decode([record(dated)])[0]] == [9999]


def test_a_union_names_an_unknown_type_briefly_and_tells_the_members_apart() -> None:
    action = example("cn.complaints.lifecycle.action.v1")
    unknown = json.loads(action)
    unknown["type"] = "x" * 500
    items, [refused] = LIFECYCLE.decode([record(action), record(json.dumps(unknown).encode())])
    assert [type(i.body) for i in items] == [CaseActionTaken]
    assert refused.reason == "invalid_event"
    assert refused.detail == f"unknown type {'x' * 60!r}"


def test_records_a_subscriber_does_not_select_pass_untouched() -> None:
    body = Body.of(CaseActionTaken, select=lambda value: value.startswith(b"{"))
    items, refused = body.decode([record(b"not ours"), record(b"{}")])
    assert items == []
    assert [r.message.value for r in refused] == [b"{}"]  # selected, then not a valid action


def test_a_record_that_breaks_decoding_is_refused_and_the_rest_handed_on() -> None:
    """Anything raised while selecting, parsing or judging one record refuses that record: out
    of FastStream's decoder it would rewind the whole batch and redeliver it for ever."""
    nested = b"[" * 100_000 + b"]" * 100_000

    def regrade(value: bytes) -> bool:
        return bool(json.loads(value))  # what a JSON-reading `select` does: RecursionError here

    body = Body.of(CaseActionTaken, plausible=False, select=regrade)
    good = example("cn.complaints.lifecycle.action.v1")
    items, [refused] = body.decode([record(nested, 1), record(good, 2)])
    assert [i.offset for i in items] == [2]
    assert (refused.message.offset, refused.reason) == (1, "invalid_event")
    assert (
        refused.detail == "not a cn.complaints.lifecycle.action.v1: RecursionError while decoding"
    )


async def test_deliver_hands_on_only_the_decoded_records() -> None:
    seen: list[Sequence[Received[ComplaintNormalized]]] = []

    async def handler(batch: Sequence[Received[ComplaintNormalized]]) -> list[Rejection]:
        seen.append(batch)
        return [Rejection(batch[0], "unknown_complaint", "no such case")]

    rejections = await deliver(
        NORMALIZED, handler, [record(b"[]", 1), record(example("cn.complaints.normalized.v1"), 2)]
    )
    assert [len(batch) for batch in seen] == [1]
    assert [(r.message.offset, r.reason) for r in rejections] == [
        (1, "invalid_event"),
        (2, "unknown_complaint"),
    ]
    assert await deliver(NORMALIZED, handler, [record(b"[]")]) != []
    assert len(seen) == 1  # a batch with nothing decoded never reaches the handler


def broker_with(
    handler: Any, verifier: Verifier | None = None, topic: Topic = Topic.NORMALIZED
) -> tuple[KafkaBroker, CollectingBroker]:
    broker = KafkaBroker()
    delivery, collected = policy(CollectorRegistry())
    body = NORMALIZED if topic is Topic.NORMALIZED else LIFECYCLE
    subscribe(
        broker,
        group="g",
        settings=KafkaSettings(),
        policy=delivery,
        verifier=verifier,
        handlers={topic: On(body, handler, "Take them.")},
    )
    return broker, collected


async def test_a_subscription_decodes_the_batch_through_faststream_s_decoder() -> None:
    got: list[list[str]] = []

    async def handler(batch: Sequence[Received[ComplaintNormalized]]) -> list[Rejection]:
        got.append([r.body.data.complaint_id for r in batch])
        return []

    broker, collected = broker_with(handler)
    good = example("cn.complaints.normalized.v1")
    async with TestKafkaBroker(broker):
        await broker.publish_batch(good, b"\xff", good, topic=Topic.NORMALIZED.value)
    cid = ComplaintNormalized.model_validate_json(good).data.complaint_id
    assert got == [[cid, cid]]
    [letter] = [MessageDeadLettered.model_validate_json(p["body"]) for p in collected.published]
    assert letter.data.reason == "invalid_event"


async def test_on_an_owned_topic_the_signature_is_checked_before_the_body() -> None:
    async def handler(batch: Sequence[Received[Any]]) -> list[Rejection]:
        raise AssertionError("an unsigned record reached the handler")

    verifier = Verifier.of(SigningSettings(dev_keys=True))
    broker, collected = broker_with(handler, verifier, Topic.LIFECYCLE)
    async with TestKafkaBroker(broker):
        await broker.publish_batch(b"{", topic=Topic.LIFECYCLE.value)
    letters = [MessageDeadLettered.model_validate_json(p["body"]) for p in collected.published]
    reasons = [letter.data.reason for letter in letters]
    assert reasons == ["unsigned"]  # not `invalid_event`: whoever wrote it, it is not the SLA's


def test_faststream_documents_the_declared_contract_type() -> None:
    async def handler(batch: Sequence[Received[Any]]) -> list[Rejection]:
        return []

    broker, _ = broker_with(handler, Verifier.of(SigningSettings(dev_keys=True)), Topic.LIFECYCLE)
    spec = AsyncAPI(broker).to_specification().to_jsonable()
    [message] = spec["components"]["messages"].values()
    payload = spec["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[-1]]
    refs = [option["$ref"].rsplit("/", 1)[-1] for option in payload["items"]["oneOf"]]
    assert payload["type"] == "array"  # a batch of records, each one of the lifecycle events
    assert refs == ["CaseActionTaken", "CaseActionRejected", "CaseStateChanged"]


def test_a_raw_body_is_the_record_s_bytes_and_never_refused() -> None:
    raw = Body.raw(ComplaintNormalized)  # documented as the model, read by the use case itself
    items, refused = raw.decode([record(b"\xff not json", 3)])
    assert ([i.body for i in items], refused) == ([b"\xff not json"], [])
