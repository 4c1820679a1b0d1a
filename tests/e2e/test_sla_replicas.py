"""Two SLA replicas on the real stack, one killed with SIGKILL mid-run: every due threshold fires
exactly once (as consumers see it: one event id per threshold), and none is left unfired.

The services run on a scaled clock (600 business seconds per real second, from a Tuesday 09:00 in
Shanghai) so dispatch and first-contact clocks (4 working hours for P3/P4) warn, breach and
escalate within a minute of real time.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import local_endpoints, serving
from complaints_cli.topics import read_all
from contracts import Topic
from sla.adapters.packed import unpack_sheet

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]

SCALE = 600.0
ORIGIN = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 24 November 2026, 09:00 Shanghai
COMPLAINTS = 60
KILL_AFTER = 25.0  # real seconds after the workload is published
RUN_FOR = 70.0  # real seconds; 70 × 600 s ≈ 11.7 business hours (one working day and a night)
FIRE_EVENTS = {"warned", "breached", "escalated", "upgraded"}


async def sla_events(bootstrap: str, complaint_ids: set[str]) -> list[dict[str, Any]]:
    """Every event on complaints.sla.v1 about the run's complaints (the topic holds other runs)."""
    events = [json.loads(value) async for value in read_all(bootstrap, Topic.SLA)]
    return [event for event in events if event.get("subject") in complaint_ids]


def business_now(config: StackConfig) -> datetime:
    """The services' scaled clock, computed the way they compute it."""
    real = (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor)).total_seconds()
    return ORIGIN + timedelta(seconds=real * SCALE)


Run = tuple[StackConfig, set[str], list[dict[str, Any]], list[dict[str, Any]], list[str]]


async def run_with_a_killed_replica() -> Run:
    run_id = f"slakill{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(8025)
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_scale=SCALE,
        time_origin=ORIGIN.isoformat(),
        extra_env={
            **channels,
            # Real seconds, a backstop longer than the rest of the run: the survivor must take
            # the dead replica's claims over by its stale heartbeat (ADR 0025), not the lease.
            "SLA_LEASE_SECONDS": "60",
            "SLA_CENSUS_SECONDS": "0",
        },
    )
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    await client.drop_database(config.database)
    pipeline = Pipeline(config)
    try:
        async with serving(receiver, port=config.receiver_port):
            for service in ("intake", "classifier", "notifier"):
                pipeline.start(service)
            pipeline.start("sla", replica=0)
            doomed = pipeline.start("sla", replica=1)
            await pipeline.wait_ready()
            # Received "now" on the services' clock (business time ran while they started).
            received = business_now(config)
            messages = list(workload.build(run_id=run_id, count=COMPLAINTS, start=received))
            await workload.publish(messages, bootstrap=config.kafka)
            started = time.monotonic()
            killed = False
            while time.monotonic() - started < RUN_FOR:
                if not killed and time.monotonic() - started > KILL_AFTER:
                    pipeline.kill(doomed)
                    killed = True
                crashed = [p for p in pipeline.crashed() if p is not doomed]
                assert not crashed, f"{crashed[0].name} crashed; see {crashed[0].log_path}"
                await asyncio.sleep(1.0)
            assert killed
            cases = await db["cases"].find({}, {"_id": 1}).to_list(None)
            complaint_ids = {str(c["_id"]) for c in cases}
            events = await sla_events(config.kafka, complaint_ids)
            # Every clock of every case sheet, one row each (ADR 0006), unpacked (ADR 0028).
            deadlines = [
                {
                    **entry,
                    "_id": f"{case['_id']}:{entry['key']}",
                    "complaint_id": case["_id"],
                    "fired": entry.get("passed", []),
                }
                for case in await db["cases"].find({}, {"clocks": 1}).to_list(None)
                for entry in unpack_sheet(case.get("clocks"))
            ]
            await asyncio.sleep(3.0)  # the last notifications land
            staff = [d.key for d in receiver.deliveries if d.audience != "customer"]
            return config, complaint_ids, events, deadlines, staff
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()


def test_every_due_threshold_fires_exactly_once_when_a_replica_dies(local_stack: None) -> None:
    config, complaint_ids, events, deadlines, staff = asyncio.run(run_with_a_killed_replica())
    assert len(complaint_ids) >= COMPLAINTS * 0.9  # all but invalid fixtures reach the SLA

    # One event id per fired threshold: a crash may publish an event again, never a second one.
    fired_ids: dict[tuple[str, str, int, int], set[str]] = {}
    copies: Counter[str] = Counter()
    for event in events:
        data = event["data"]
        assert isinstance(data, dict)
        if data["event"] not in FIRE_EVENTS:
            continue
        key = (
            str(data["complaint_id"]),
            str(data["clock"]),
            int(data["occurrence"]),
            int(data["threshold"] or 0),
        )
        fired_ids.setdefault(key, set()).add(str(event["id"]))
        copies[str(event["id"])] += 1
    assert fired_ids, "nothing fired: the scaled clock did not move the deadlines"
    assert all(len(ids) == 1 for ids in fired_ids.values())

    # Every threshold due well before the end fired (and is recorded as fired), unless its clock
    # stopped before it came due or around then: the scheduler may lag up to a real second, 600
    # business seconds on this clock, so a stop processed first legitimately wins.
    # A threshold already past when the clocks were set (pipeline latency is minutes of business
    # time at this scale) is due from that moment.
    started = {
        e["data"]["complaint_id"]: datetime.fromisoformat(e["time"])
        for e in events
        if e["data"]["event"] == "set"
    }
    margin = timedelta(seconds=5 * SCALE)
    end = business_now(config) - timedelta(seconds=10 * SCALE)
    due, missing = 0, []
    for doc in deadlines:
        stopped = doc.get("stopped_at")
        begun = started.get(doc["complaint_id"], ORIGIN)
        for threshold in doc["thresholds"]:
            at = max(threshold["at"], begun)
            if at > end or (stopped is not None and stopped <= at + margin):
                continue
            due += 1
            key = (
                doc["complaint_id"],
                str(doc.get("clock")),
                doc["occurrence"],
                threshold["percent"],
            )
            if threshold["percent"] not in doc.get("fired", []) or (
                doc.get("clock") is not None and key not in fired_ids
            ):
                missing.append(f"{doc['_id']}@{threshold['percent']}")
    planned = {
        (doc["complaint_id"], str(doc.get("clock")), doc["occurrence"], t["percent"]): max(
            t["at"], started.get(doc["complaint_id"], ORIGIN)
        )
        for doc in deadlines
        for t in doc["thresholds"]
    }
    lags = sorted(
        (datetime.fromisoformat(e["data"]["fired_at"]) - at).total_seconds() / SCALE
        for e in events
        if e["data"]["event"] in FIRE_EVENTS
        and (
            at := planned.get(
                (
                    e["data"]["complaint_id"],
                    str(e["data"]["clock"]),
                    e["data"]["occurrence"],
                    e["data"]["threshold"] or 0,
                )
            )
        )
        is not None
    )
    p99 = lags[int(0.99 * (len(lags) - 1))] if lags else float("nan")
    sys.stdout.write(
        f"\nsla replicas: {due} due thresholds, {len(fired_ids)} fired once, "
        f"{sum(n - 1 for n in copies.values())} republished copies, {len(missing)} missing; "
        f"firing lag (real s) p50 {lags[len(lags) // 2] if lags else 0:.2f}, p99 {p99:.2f}, "
        f"max {lags[-1] if lags else 0:.2f}\n"
    )
    assert due > 100
    # A breach or escalation reaches each staff audience once (the SLA event may be republished
    # after a crash; the notifier's key makes it one message).
    told: Counter[str] = Counter(key.rsplit(":", 1)[0] for key in staff)
    for event in events:
        data = event["data"]
        if data["event"] not in {"breached", "escalated"}:
            continue
        for audience in data["audiences"]:
            if audience == "customer":
                continue
            expected = (
                f"{data['complaint_id']}:{data['event']}:{data['clock']}#{data['occurrence']}:"
                f"{data['threshold']}:{audience}"
            )
            assert told[expected] == 1, (expected, told[expected])
    by_id = {doc["_id"]: doc for doc in deadlines}
    detail = [
        {
            k: by_id[m.split("@")[0]].get(k)
            for k in (
                "status",
                "fired",
                "next_fire_at",
                "next_percent",
                "stopped_at",
                "lease_owner",
                "lease_until",
                "plan",
            )
        }
        for m in missing[:5]
    ]
    assert missing == [], detail
