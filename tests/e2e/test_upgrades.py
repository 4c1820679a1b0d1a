"""Time-based upgrades on the real stack (issue 18; Vanke T12/T13: only delay on our side counts).

The four services run as processes over the local Kafka and FerretDB, business time at 30000×.
Two plain P4 complaints arrive together. The customer of A is awaited for 10 days (from about day
1 to day 11); B is simply left open. At day 7, B is upgraded to P2 and A is not (the pause is not
our delay). At day 30, B is upgraded to P1: from then on its clocks are P1's — the P1 progress
updates repeat every 24 h, and their breaches go to leadership as P1's rules say.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.topics import end_offsets, read_all
from contracts import Topic
from tests._builders.case_api import ORIGIN, STAFF, Staff, until
from tests._builders.stack import start_local_stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]
SCALE = 30000.0  # one real second is 8 h 20 min of business time
PLAIN = 56  # a billing complaint on the hotline, graded P4
DAY = timedelta(days=1)
Json = dict[str, Any]


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB."""
    start_local_stack()


def business_now(config: StackConfig) -> datetime:
    """The services' scaled clock, computed the way they compute it."""
    real = (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor)).total_seconds()
    return ORIGIN + timedelta(seconds=real * SCALE)


async def at_business(config: StackConfig, moment: datetime) -> None:
    """Sleep until the services' clock reads `moment`."""
    ahead = (moment - business_now(config)).total_seconds() / SCALE
    if ahead > 0:
        await asyncio.sleep(ahead)


async def case_of(staff: Staff, cid: str) -> Json:
    """The case as the manager reads it; a read the loaded host did not answer in its budget
    (the API's 503 `timeout`) is asked again."""
    for _ in range(10):
        answer = await staff.get(f"/cases/{cid}", "manager")
        if answer.status_code not in {503, 504}:
            break
        await asyncio.sleep(0.5)
    assert answer.status_code == 200, answer.text
    view: Json = answer.json()
    return view


async def sla_events(config: StackConfig, since: dict[int, int], cid: str) -> list[Json]:
    """This run's events on complaints.sla.v1 about one case, in order."""
    found = []
    async for value in read_all(config.kafka, Topic.SLA, since):
        event = json.loads(value)
        if event.get("subject") == cid:
            found.append(event["data"])
    return found


async def walk(
    config: StackConfig, staff: Staff, since: dict[int, int], received: datetime
) -> None:
    async def both() -> Json | None:
        page = (await staff.get("/cases", "manager")).json()
        return page if len(page["items"]) == 2 else None

    items = (await until(both, "both cases to be listed"))["items"]
    paused, open_ = sorted(i["complaint_id"] for i in items)
    assert {i["severity"] for i in items} == {"P4"}
    await staff.act(paused, "lead", "assigned", assignee="handler-e2e", department="billing")
    await staff.act(paused, "handler", "contacted")
    await staff.act(paused, "handler", "awaiting_customer", reason="waiting for the bill")
    paused_at = business_now(config)
    assert paused_at < received + 2 * DAY, "the stack was too slow for this test's time scale"

    # Day 7 (and a few hours): B is upgraded, A (awaited since about day 1) is not.
    await at_business(config, received + 7 * DAY + timedelta(hours=12))
    assert (await case_of(staff, open_))["severity"] == "P2"
    view = await case_of(staff, paused)
    assert (view["severity"], view["state"]) == ("P4", "awaiting_customer")
    upgrades = [e for e in await sla_events(config, since, paused) if e["event"] == "upgraded"]
    assert upgrades == [], "waiting for the customer is not our delay"

    # The customer answers after 10 days; the pause credit (capped at 5 wd) moves A's upgrade.
    await at_business(config, paused_at + 10 * DAY)
    await staff.act(paused, "handler", "customer_replied")
    assert (await case_of(staff, paused))["severity"] == "P4"

    # Day 30: B becomes P1; its clocks from then on are P1's, and so are their audiences (read
    # from complaints.sla.v1: the case view of a month of repeated clocks is the heavy read).
    await at_business(config, received + 33 * DAY)
    events = await sla_events(config, since, open_)
    [to_p1] = [e for e in events if e["event"] == "upgraded" and e["severity"] == "P1"]
    upgraded_at = datetime.fromisoformat(to_p1["fired_at"])
    assert upgraded_at >= received + 30 * DAY
    # Progress updates repeat; the occurrences after the upgrade are P1's (24 h) and their breach
    # goes to leadership. (A breach due before the upgrade, fired in its round, stays P2's.)
    after = [
        e
        for e in events
        if (e["clock"], e["event"]) == ("progress_update", "breached")
        and datetime.fromisoformat(e["fired_at"]) >= upgraded_at
        and e["severity"] == "P1"
    ]
    assert after, "a P1 progress update breached after the upgrade"
    assert all("leadership" in e["audiences"] for e in after)  # P1's breach rule (telecom)
    spans = {e["occurrence"]: datetime.fromisoformat(e["due_at"]) for e in after}
    later = sorted(spans)
    assert all(spans[b] - spans[a] == DAY for a, b in pairwise(later))
    # A was upgraded, later than day 7: only the time on our side counted.
    [a_up] = [
        e
        for e in await sla_events(config, since, paused)
        if e["event"] == "upgraded" and e["severity"] == "P2"
    ]
    assert datetime.fromisoformat(a_up["fired_at"]) >= paused_at + 7 * DAY


async def run() -> None:
    run_id = f"upgrade{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_scale=SCALE,
        time_origin=ORIGIN.isoformat(),
        extra_env={"SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"},
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    await client.drop_database(config.database)
    pipeline = Pipeline(config)
    staff = Staff(f"http://127.0.0.1:{config.port('sla')}")
    try:
        pipeline.start_all()
        await pipeline.wait_ready()
        received = business_now(config)
        messages = [
            list(workload.build(run_id=f"{run_id}{part}", count=PLAIN + 1, start=received))[PLAIN]
            for part in "ab"
        ]
        since = await end_offsets(config.kafka, Topic.SLA)
        await workload.publish(messages, bootstrap=config.kafka)
        await walk(config, staff, since, received)
    finally:
        await staff.http.aclose()
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()


def test_upgrades_count_only_our_delay_and_re_plan_on_the_new_severity(local_stack: None) -> None:
    asyncio.run(run())
