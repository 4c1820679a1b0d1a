"""Each sector pack on the real stack (issue 18, seed 004): one complaint through the four services
running the pack, and its clock figures as the case API shows them.

- bank: a general complaint received Friday 2026-11-20 10:00 is resolved by Wednesday 11-25
  (3 working days, office until 17:30);
- hospital: the same complaint by Tuesday 11-24 (2 working days);
- hotel: a Saturday-night complaint is dispatched within minutes (natural minutes: a hotel
  never closes);
- property: received on a National Day holiday (2026-10-03 10:00), dispatched the same day.

The bank, hospital and hotel packs have SLA sections only (no classifier, notifier or staff
sections yet): there the SLA service runs the sector pack and the other services run telecom's.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from tests._builders.case_api import STAFF, Staff, clock, until
from tests._builders.stack import start_local_stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]
SH = ZoneInfo("Asia/Shanghai")
PLAIN = 56  # a plain billing complaint on the hotline
Json = dict[str, Any]
FRIDAY = datetime(2026, 11, 20, 10, tzinfo=SH)
SATURDAY_NIGHT = datetime(2026, 11, 21, 23, 40, tzinfo=SH)
HOLIDAY = datetime(2026, 10, 3, 10, tzinfo=SH)


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB."""
    start_local_stack()


def check_bank(view: Json) -> None:
    due = datetime.fromisoformat(clock(view, "resolution")["due_at"])
    assert due == datetime(2026, 11, 25, 17, 30, tzinfo=SH)  # Mon, Tue, Wed


def check_hospital(view: Json) -> None:
    due = datetime.fromisoformat(clock(view, "resolution")["due_at"])
    assert due == datetime(2026, 11, 24, 17, 30, tzinfo=SH)  # Mon, Tue


def check_hotel(view: Json) -> None:
    received = datetime.fromisoformat(view["received_at"])
    minutes = 5 if view["severity"] in {"P1", "P2"} else 10  # T30 / T36
    dispatch = datetime.fromisoformat(clock(view, "dispatch")["due_at"])
    assert dispatch - received == timedelta(minutes=minutes)  # natural minutes, on a Saturday


def check_property(view: Json) -> None:
    dispatch = datetime.fromisoformat(clock(view, "dispatch")["due_at"])
    resolution = datetime.fromisoformat(clock(view, "resolution")["due_at"])
    assert dispatch == datetime(2026, 10, 4, tzinfo=SH)  # T09: handed over the same day
    assert dispatch < resolution


PACKS = {
    "bank": (FRIDAY, check_bank),
    "hospital": (FRIDAY, check_hospital),
    "hotel": (SATURDAY_NIGHT, check_hotel),
    "property": (HOLIDAY, check_property),
}


async def one_complaint(pack: str) -> Json:
    origin, _ = PACKS[pack]
    run_id = f"pack{pack}{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    whole = (ROOT / "policies" / pack / "classifier.yaml").is_file()
    services = SERVICES if whole else ("sla",)
    packs = {f"{service.upper()}_POLICY_PACK": pack for service in services}
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_origin=origin.isoformat(),
        extra_env={**packs, "SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"},
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    await client.drop_database(config.database)
    pipeline = Pipeline(config)
    staff = Staff(f"http://127.0.0.1:{config.port('sla')}")
    try:
        pipeline.start_all()
        await pipeline.wait_ready()
        # Received as the services start: the business clock began at the pack's moment.
        message = list(workload.build(run_id=run_id, count=PLAIN + 1, start=origin))[PLAIN]
        await workload.publish([message], bootstrap=config.kafka)

        async def listed() -> Json | None:
            page = (await staff.get("/cases", "manager")).json()
            return page["items"][0] if page.get("items") else None

        cid = (await until(listed, f"the {pack} case to be listed"))["complaint_id"]
        answer = await staff.get(f"/cases/{cid}", "manager")
        assert answer.status_code == 200, answer.text
        view: Json = answer.json()
        assert datetime.fromisoformat(view["received_at"]) < origin + timedelta(minutes=5)
        return view
    finally:
        await staff.http.aclose()
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_a_sector_pack_runs_its_own_clocks(local_stack: None, pack: str) -> None:
    view = asyncio.run(one_complaint(pack))
    PACKS[pack][1](view)
