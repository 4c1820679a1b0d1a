"""The compacted cases topic on the real stack: a new reader of `complaints.cases.v1` from the
beginning sees each case's latest state (ADR 0011).

The SLA's use-cases run over the real case store (FerretDB) and publish through a real broker
(Kafka); the reader keeps the last record per key, which is what compaction keeps. The topic is
checked to be created compacted.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import CollectorRegistry

from complaints_cli.topics import read_all
from contracts import (
    CaseAction,
    CaseActionTaken,
    LifecycleAction,
    Topic,
)
from servicekit.bodies import deliver
from servicekit.kafka import client_kwargs, ensure_topics, make_broker, publish_all
from servicekit.settings import KafkaSettings
from sla.adapters.mongo_cases import MongoCaseStore
from sla.handlers import LIFECYCLE, RECEIPTS
from tests._builders.sla import RECEIVED, Rig, classified, receipt
from tests.stores import fresh_database, mongo_server

pytestmark = pytest.mark.stack

KAFKA = KafkaSettings(bootstrap_servers=os.environ.get("COMPLAINTS_KAFKA", "127.0.0.1:9092"))


def staff(cid: str, kind: LifecycleAction, minutes: int, **fields: Any) -> CaseActionTaken:
    """A staff action on `cid`, `minutes` after receipt."""
    at = RECEIVED + timedelta(minutes=minutes)
    data = CaseAction(
        complaint_id=cid,
        action=kind,
        action_id=f"{cid}-{kind.value}",
        actor="handler-7",
        occurred_at=at,
        **fields,
    )
    return CaseActionTaken.build(data=data, subject=cid, source="/crm", time=at, cause=cid)


async def compaction_policy() -> str:
    admin = AIOKafkaAdminClient(**client_kwargs(KAFKA))
    await admin.start()
    try:
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, Topic.CASES.value)]
        )
    finally:
        await admin.close()
    configs = {name: value for name, value, *_ in described.resources[0][4]}
    return str(configs["cleanup.policy"])


async def latest_per_case(cids: set[str]) -> dict[str, dict[str, Any]]:
    """What a new reader ends up with: the last record of each case, read from the beginning."""
    latest: dict[str, dict[str, Any]] = {}
    async for value in read_all(KAFKA.bootstrap_servers, Topic.CASES):
        event = json.loads(value)
        if event["subject"] in cids:
            latest[event["subject"]] = event["data"]
    return latest


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """The SLA's use-cases over FerretDB, publishing to Kafka (and to the rig's recorder)."""
    await ensure_topics(KAFKA, [Topic.CASES, Topic.SLA, Topic.LIFECYCLE])
    broker = make_broker(settings=KAFKA, service="sla-test", registry=CollectorRegistry())
    await broker.start()
    async with fresh_database(mongo_server(), "sla_cases_topic") as db:
        rig = Rig(cases=MongoCaseStore(db))

        async def publish(events: Any) -> None:
            await publish_all(broker, events)
            await rig.publisher(events)

        rig.start.publish = rig.actions.publish = rig.receipts.publish = publish
        try:
            yield rig
        finally:
            await broker.stop()


async def test_a_new_reader_of_the_cases_topic_sees_each_case_s_latest_state(rig: Rig) -> None:
    assert await compaction_policy() == "compact"
    cids = [f"CP20261124-{secrets.token_hex(4).upper()}{n:02d}" for n in range(3)]
    await rig.classified(*(classified(cid=cid) for cid in cids))
    first, second, _ = cids
    # The first is acknowledged, assigned and contacted; the second assigned twice (the
    # reassignment wins); the third only started. Redeliveries come in between.
    await deliver(
        RECEIPTS,
        rig.receipts.on_receipts,
        [
            rig.inbound(
                receipt(cid=first, at=RECEIVED + timedelta(minutes=3)).model_dump_json().encode(),
                Topic.NOTIFICATION_SENT,
            )
        ],
    )
    assigned = staff(first, LifecycleAction.ASSIGNED, 5, assignee="h-1", department="billing")
    batches = [
        [assigned, staff(second, LifecycleAction.ASSIGNED, 5, assignee="h-2", department="net")],
        [staff(first, LifecycleAction.CONTACTED, 9), assigned],  # `assigned` redelivered
        [
            CaseActionTaken.build(
                data=staff(second, LifecycleAction.ASSIGNED, 20, assignee="h-3").data.model_copy(
                    update={"action_id": f"{second}-reassigned"}
                ),
                subject=second,
                source="/crm",
                time=RECEIVED,
                cause="reassigned",
            )
        ],
    ]
    for batch in batches:
        messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in batch]
        assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []
    await rig.classified(classified(cid=cids[2]))  # a redelivered classification
    seen = await latest_per_case(set(cids))
    for cid in cids:
        stored = await rig.record(cid)
        state = seen[cid]
        assert (state["version"], state["state"]) == (stored.version, stored.case.state.value)
        assert state["assignee"] == stored.assignee
    assert seen[first]["acknowledged"] is True
    assert seen[second]["assignee"] == "h-3"
    assert seen[cids[2]]["version"] == 0
