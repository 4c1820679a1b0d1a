"""Regrades, classifier side: the contract, the correction store (memory and MongoDB), the use-case.

The MongoDB variants are marked `stack`: they use COMPLAINTS_MONGO when set, else the local stack.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.adapters.memory_corrections import InMemoryCorrectionStore
from classifier.adapters.mongo import MongoClassificationStore
from classifier.adapters.mongo_corrections import MongoCorrectionStore
from classifier.corrections_export import training_lines
from classifier.domain.path_tally import minute_of
from classifier.domain.regrade import correction_of, training_line
from classifier.handlers import REGRADES
from classifier.ports import ClassificationStore, CorrectionStore
from classifier.regrading import Regrading
from classifier.training import read_examples
from contracts import (
    ActorRole,
    CaseAction,
    CaseActionTaken,
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    CustomerTier,
    FlagName,
    Kind,
    LifecycleAction,
    Regrade,
    Severity,
)
from servicekit.bodies import deliver
from servicekit.delivery import Inbound
from tests.stores import fresh_database, mongo_server

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
CID = "CP20261206-7K3M9Q2XAB"
OTHER = "CP20261206-8K3M9Q2XAC"


def regraded(
    action_id: str = "r-1",
    *,
    cid: str = CID,
    at: datetime = NOW,
    role: ActorRole | None = ActorRole.LEAD,
    reason: str | None = "客户已向12315投诉, 漏判越级",
    **regrade: Any,
) -> CaseAction:
    fields: dict[str, Any] = {
        "kind": Kind.COMPLAINT,
        "category": "billing/overcharge",
        "severity": Severity.P2,
        "flags": [FlagName.OVER_LEVEL, FlagName.REGULATOR],
    }
    fields.update(regrade)
    return CaseAction(
        complaint_id=cid,
        action=LifecycleAction.REGRADED,
        action_id=action_id,
        actor="lead-07",
        occurred_at=at,
        actor_role=role,
        reason=reason,
        regrade=Regrade(**fields),
    )


def classified(cid: str = CID) -> ComplaintClassified:
    data = ClassifiedComplaint(
        complaint_id=cid,
        channel=Channel.HOTLINE,
        received_at=NOW - timedelta(hours=1),
        kind=Kind.COMPLAINT,
        category="billing/overcharge",
        severity=Severity.P4,
        confidence=0.9,
        model_version="m",
        policy="telecom",
        policy_version="v",
    )
    return ComplaintClassified.build(
        data=data, subject=cid, source="/classifier", time=NOW, cause=cid
    )


def inbound(event: object, offset: int = 0) -> Inbound:
    value = event if isinstance(event, bytes) else event.model_dump_json().encode()  # type: ignore[attr-defined]
    return Inbound("complaints.lifecycle.v1", 0, offset, CID.encode(), value, 0)


# --- the contract ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": ActorRole.HANDLER}, "lead or a manager"),
        ({"role": None}, "lead or a manager"),
        ({"reason": "  "}, "reason"),
        ({"category": None}, "category and a severity"),
    ],
)
def test_an_incomplete_regrade_is_refused_by_the_contract(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        regraded(**change)


def test_a_regrade_to_an_enquiry_carries_no_grade() -> None:
    action = regraded(kind=Kind.ENQUIRY, category=None, severity=None, flags=[])
    assert correction_of(action).label == "enquiry"
    with pytest.raises(ValidationError, match="no category or severity"):
        regraded(kind=Kind.OUT_OF_SCOPE, category=None, severity=Severity.P4)


def test_a_regrade_round_trips_as_a_lifecycle_event() -> None:
    event = CaseActionTaken.build(
        data=regraded(), subject=CID, source="/case-api", time=NOW, cause="r"
    )
    again = CaseActionTaken.model_validate_json(event.model_dump_json())
    assert again.data.regrade == regraded().regrade
    assert again.data.actor_role is ActorRole.LEAD


def test_training_line_is_one_tsv_line_with_the_top_category() -> None:
    line = training_line(
        correction_of(regraded()),
        text="已经投诉到12315了 | 多收\n的钱还不退",
        channel=Channel.WECHAT,
        tier=CustomerTier.GOLD,
    )
    assert line == (
        "billing | P2 | over_level,regulator | wechat | gold | 已经投诉到12315了 多收 的钱还不退"
    )


# --- one contract for the correction store -----------------------------------------------------


@dataclass
class Backend:
    classifications: ClassificationStore
    corrections: CorrectionStore
    standing: Any
    """Reads the decision that stands for a complaint (store-specific)."""


@pytest.fixture(scope="module")
def mongo_url() -> str:
    """COMPLAINTS_MONGO if given, else the local stack (started if needed)."""
    return mongo_server()


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.stack)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        classifications = InMemoryClassificationStore()
        corrections = InMemoryCorrectionStore(classifications)

        async def memory_standing(cid: str) -> str | None:
            found = corrections.standing.get(cid)
            return found.severity.value if found and found.severity else None

        yield Backend(classifications, corrections, memory_standing)
        return
    async with fresh_database(request.getfixturevalue("mongo_url"), "classifier_test") as db:

        async def mongo_standing(cid: str) -> str | None:
            doc = await db["classifications"].find_one({"_id": cid})
            return doc.get("severity") if doc and doc.get("regraded") else None

        yield Backend(MongoClassificationStore(db), MongoCorrectionStore(db), mongo_standing)


async def test_a_correction_is_recorded_once_and_changes_the_stored_decision(
    backend: Backend,
) -> None:
    await backend.classifications.save([(classified(), None)])
    correction = correction_of(regraded())
    assert await backend.corrections.apply([correction]) == []
    assert await backend.corrections.apply([correction]) == []  # redelivery
    [stored] = await backend.corrections.corrections()
    assert (stored.action_id, stored.category, stored.severity) == (
        "r-1",
        "billing/overcharge",
        Severity.P2,
    )
    assert stored.flags == (FlagName.OVER_LEVEL, FlagName.REGULATOR)
    assert stored.role == "lead"
    assert await backend.standing(CID) == "P2"


async def test_the_latest_correction_stands_whatever_the_arrival_order(backend: Backend) -> None:
    await backend.classifications.save([(classified(), None)])
    newer = correction_of(regraded("r-2", at=NOW + timedelta(hours=1), severity=Severity.P1))
    older = correction_of(regraded("r-1", at=NOW, severity=Severity.P3))
    await backend.corrections.apply([newer])
    await backend.corrections.apply([older])
    assert await backend.standing(CID) == "P1"
    assert [c.action_id for c in await backend.corrections.corrections()] == ["r-1", "r-2"]


async def test_a_correction_of_an_unknown_complaint_is_not_recorded(backend: Backend) -> None:
    await backend.classifications.save([(classified(), None)])
    unknown = correction_of(regraded("r-9", cid=OTHER))
    assert await backend.corrections.apply([unknown, correction_of(regraded())]) == [OTHER]
    assert [c.complaint_id for c in await backend.corrections.corrections()] == [CID]


@pytest.mark.stack
async def test_history_reads_follow_the_correction_that_stands(mongo_url: str) -> None:
    """The history entry (ADR 0030) moves with the stored decision, as `classifications` does."""
    async with fresh_database(mongo_url, "classifier_test") as db:
        store = MongoClassificationStore(db)
        await store.save([(classified(), "阳光花园")])
        newer = regraded("r-2", at=NOW + timedelta(hours=1), category="network/no_signal")
        older = regraded("r-1", at=NOW, category="billing/unknown_deduction")
        await MongoCorrectionStore(db).apply([correction_of(newer)])
        await MongoCorrectionStore(db).apply([correction_of(older)])  # late: does not stand
        since = NOW - timedelta(days=1)
        assert await store.by_categories(["billing/overcharge"], since=since) == []
        assert await store.by_categories(["billing/unknown_deduction"], since=since) == []
        [moved] = await store.by_issues([("network", "阳光花园")], since=since)
        assert (moved.complaint_id, moved.category) == (CID, "network/no_signal")
        assert await store.by_issues([("billing", "阳光花园")], since=since) == []
        # The path tally counts it under the path it moved to (ADR 0033: never fewer).
        minute = minute_of(NOW - timedelta(hours=1))  # its receipt
        [row] = await store.path_tally(["network/no_signal"], [minute])
        assert (row.minute, row.count) == (minute, 1)


# --- the use-case on the lifecycle topic -------------------------------------------------------


async def test_regrading_takes_regrades_only_and_rejects_what_it_cannot_apply() -> None:
    classifications = InMemoryClassificationStore()
    await classifications.save([(classified(), None)])
    store = InMemoryCorrectionStore(classifications)
    good = CaseActionTaken.build(
        data=regraded(), subject=CID, source="/case-api", time=NOW, cause="r"
    )
    stranger = CaseActionTaken.build(
        data=regraded("r-2", cid=OTHER), subject=OTHER, source="/case-api", time=NOW, cause="r"
    )
    resolved = CaseAction(
        complaint_id=CID,
        action=LifecycleAction.RESOLVED,
        action_id="x-1",
        actor="h-1",
        occurred_at=NOW,
        result="退还",
    )
    other = CaseActionTaken.build(
        data=resolved, subject=CID, source="/case-api", time=NOW, cause="r"
    )
    body = good.model_dump(mode="json")
    body["data"]["actor_role"] = "handler"  # a handler may not regrade
    forged = inbound(json.dumps(body).encode(), 3)
    messages = [inbound(good, 0), inbound(other, 1), inbound(stranger, 2), forged, inbound(b"{", 4)]
    rejections = await deliver(REGRADES, Regrading(store=store).take, messages)
    assert sorted((r.message.offset, r.reason) for r in rejections) == [
        (2, "unknown_complaint"),
        (3, "invalid_event"),
    ]
    assert list(store.recorded) == ["r-1"]


# --- export-corrections: the lines `make train` reads ------------------------------------------


@pytest.mark.stack
async def test_exported_corrections_are_training_examples(mongo_url: str, tmp_path: Path) -> None:
    async with fresh_database(mongo_url, "classifier_test") as db:
        await MongoClassificationStore(db).save([(classified(), None), (classified(OTHER), None)])
        await db["complaints"].insert_many(
            [
                # intake's layout, as its read model COMPLAINT_TEXTS declares it
                {
                    "_id": CID,
                    "normalized_event": {"data": {"text": "我打过12315了，多收的钱还不退"}},
                },
                {"_id": OTHER, "normalized_event": {"data": {"text": "请问怎么开发票"}}},
            ]
        )
        store = MongoCorrectionStore(db)
        await store.apply(
            [
                correction_of(regraded("r-1", at=NOW, severity=Severity.P3, flags=[])),
                correction_of(regraded("r-2", at=NOW + timedelta(minutes=5))),
                correction_of(
                    regraded("r-3", cid=OTHER, kind=Kind.ENQUIRY, category=None, severity=None)
                ),
            ]
        )
        lines, missing = await training_lines(db)
    assert missing == 0
    path = tmp_path / "corrections-test.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    examples = {e.text: e for e in read_examples(tmp_path)}
    went = examples["我打过12315了，多收的钱还不退"]
    assert (went.label, went.severity, went.flags) == ("billing", "P2", ("over_level", "regulator"))
    assert went.channel is Channel.HOTLINE
    assert examples["请问怎么开发票"].kind is Kind.ENQUIRY
