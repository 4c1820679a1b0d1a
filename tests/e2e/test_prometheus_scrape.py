"""A real scrape: Debian's Prometheus watches the four services while a forced breach happens.

Prometheus runs from deploy/local/stack.py (`start_prometheus`) on 127.0.0.1:`PORTS.prometheus`,
scraping 127.0.0.1:8001-8004 every second and evaluating deploy/prometheus/rules/*.yml as often.
The services run on a scaled clock (600 business seconds per real second from a Tuesday 09:00 in
Shanghai): dispatch and first-contact clocks of P3/P4 complaints (4 working hours) breach about
24 real seconds after receipt, and nobody plays the staff side, so they do.

`ComplaintsSlaBreached` has no `for:` and looks at `increase(...[10m])`: it fires on the first
evaluation that sees the breach counter of a clock grow between two scrapes. Complaints are sent
in waves a few seconds apart so their breaches land in different scrapes (a counter series that
first appears with its final value shows no increase to Prometheus 2.x).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, serving
from tests.ops.local_stack import load_stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]

SCALE = 600.0
ORIGIN = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 24 November 2026, 09:00 Shanghai
WAVES = 5
PER_WAVE = 8
WAVE_GAP = 3.0  # real seconds between waves
ALERT = "ComplaintsSlaBreached"
ALERT_WITHIN = 120.0  # real seconds after the first wave
GROUPS = {"complaints-sla", "complaints-pipeline", "complaints-notifications"}


@pytest.fixture(scope="module")
def prometheus(local_stack: None) -> Iterator[str]:
    """Debian's Prometheus at a one-second scrape; stopped afterwards if this test started it."""
    stack = load_stack()
    was_running = stack.alive("prometheus") is not None
    stack.start_prometheus(scrape_interval=1.0)
    try:
        yield f"http://{stack.HOST}:{stack.PORTS.prometheus}"
    finally:
        if was_running:
            stack.start_prometheus()  # back to the default configuration
        else:
            stack.stop_prometheus()


async def api(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    """One Prometheus HTTP API call; its `data`."""
    response = await client.get(f"/api/v1/{path}", params=params)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]


async def until(what: str, limit: float, probe: Any) -> Any:
    """Poll `probe()` once a second until it returns something truthy."""
    deadline = time.monotonic() + limit
    while True:
        if result := await probe():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit:.0f}s")
        await asyncio.sleep(1.0)


def business_now(config: StackConfig) -> datetime:
    """The services' scaled clock, computed the way they compute it."""
    real = (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor)).total_seconds()
    return ORIGIN + timedelta(seconds=real * SCALE)


async def scrape_run(base_url: str) -> dict[str, Any]:
    run_id = f"prom{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    sms_secret, hook_secret = secrets.token_hex(16), secrets.token_hex(16)
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_scale=SCALE,
        time_origin=ORIGIN.isoformat(),
        extra_env={
            "NOTIFIER_SMS_GATEWAY_SECRET": sms_secret,
            "NOTIFIER_WEBHOOK_SECRET": hook_secret,
            "SLA_CENSUS_SECONDS": "2",
            **{f"{service.upper()}_LAG_INTERVAL_SECONDS": "1" for service in SERVICES},
        },
    )
    receiver = Receiver(secrets={"/sms": sms_secret.encode(), "/webhook": hook_secret.encode()})
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongo, tz_aware=True)
    await mongo.drop_database(config.database)
    pipeline = Pipeline(config)
    seen: dict[str, Any] = {}
    try:
        async with (
            serving(receiver, port=config.receiver_port),
            httpx.AsyncClient(base_url=base_url, timeout=5.0) as client,
        ):
            rules = await until("rules loaded", 30, lambda: api(client, "rules"))
            seen["groups"] = {group["name"] for group in rules["groups"]}
            # At the topics' end, as the bench and the demo start: what earlier tests left
            # unread would otherwise come first and bunch this test's waves together.
            await skip_backlog(config.kafka, SERVICES)
            pipeline.start_all()
            await pipeline.wait_ready()

            async def all_up() -> list[dict[str, Any]] | None:
                targets = (await api(client, "targets", state="active"))["activeTargets"]
                ours = [t for t in targets if t["labels"]["job"] in SERVICES]
                return ours if ours and all(t["health"] == "up" for t in ours) else None

            seen["targets"] = await until("every service scraped", 30, all_up)
            started = datetime.now(UTC)
            for wave in range(WAVES):
                messages = workload.build(
                    run_id=f"{run_id}w{wave}", count=PER_WAVE, start=business_now(config)
                )
                await workload.publish(list(messages), bootstrap=config.kafka)
                await asyncio.sleep(WAVE_GAP)

            async def breach_alert() -> list[dict[str, Any]] | None:
                crashed = pipeline.crashed()
                assert not crashed, f"{crashed[0].name} crashed; see {crashed[0].log_path}"
                alerts = (await api(client, "alerts"))["alerts"]
                firing = [
                    a
                    for a in alerts
                    if a["labels"]["alertname"] == ALERT
                    and a["state"] == "firing"
                    and datetime.fromisoformat(a["activeAt"].replace("Z", "+00:00")) >= started
                ]
                return firing or None

            seen["alerts"] = await until(f"{ALERT} firing", ALERT_WITHIN, breach_alert)
            seen["all_alerts"] = (await api(client, "alerts"))["alerts"]
            for name, query in QUERIES.items():
                seen[name] = (await api(client, "query", query=query))["result"]
    finally:
        pipeline.stop_all()
        await mongo.drop_database(config.database)
        await mongo.close()
    return seen


QUERIES = {
    "breaches": 'sum(complaints_sla_events_total{event="breached"})',
    "lag_services": "count by (service) (complaints_consumer_lag_messages)",
    "faststream": "sum by (app_name) (faststream_received_messages_total)",
    "stage_latency": "sum by (service) (complaints_stage_latency_seconds_count)",
    "open": "sum(complaints_deadlines_open)",
}


def test_a_forced_breach_fires_the_breach_alert_in_prometheus(prometheus: str) -> None:
    seen = asyncio.run(scrape_run(prometheus))
    assert seen["groups"] >= GROUPS
    assert {t["labels"]["job"] for t in seen["targets"]} == set(SERVICES)

    [*alerts] = seen["alerts"]
    assert {a["labels"]["severity"] for a in alerts} == {"warning"}
    assert {a["labels"]["clock"] for a in alerts} <= {
        "acknowledge",
        "dispatch",
        "first_contact",
        "preliminary_reply",
        "progress_update",
        "resolution",
        "callback",
        "regulator_reply",
    }
    down = [
        a
        for a in seen["all_alerts"]
        if a["labels"]["alertname"] == "ComplaintsServiceDown" and a["state"] == "firing"
    ]
    assert down == []

    assert float(seen["breaches"][0]["value"][1]) > 0
    # Every service samples its own consumer lag and runs FastStream's middleware.
    assert {r["metric"]["service"] for r in seen["lag_services"]} == set(SERVICES)
    assert {r["metric"]["app_name"] for r in seen["faststream"]} == set(SERVICES)
    timed = {r["metric"]["service"] for r in seen["stage_latency"] if float(r["value"][1]) > 0}
    assert timed == set(SERVICES)
    assert float(seen["open"][0]["value"][1]) > 0  # the census gauges reach Prometheus
