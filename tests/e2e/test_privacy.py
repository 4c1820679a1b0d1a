"""Issue 20 on the real stack: a case's contact masked on reads, revealed only with a logged
reason, the access log read by the auditor.

The four services run as processes over the local Kafka and FerretDB; one complaint with a
phone, a name and an address goes through intake; staff read and reveal through the case API.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import local_endpoints, serving
from contracts import Topic
from sla.adapters.packed import unpack_sheet
from tests._builders.case_api import ORIGIN, Json, Staff, staff_table, until
from tests._builders.stack import start_local_stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]
STAFF = staff_table({"handler": "billing", "lead": "billing", "manager": None, "auditor": None})
PHONE, NAME, ADDRESS = "13912345678", "欧阳明月", "广东省深圳市南山区科技园路1号9栋"


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB."""
    start_local_stack()


def raw_message(run_id: str, received: datetime) -> tuple[bytes, bytes]:
    body = {
        "channel": "hotline",
        "external_id": f"{run_id}-1",
        "received_at": received.isoformat(),
        "text": f"我是{NAME}，宽带断网三天了，住在{ADDRESS}，请回电{PHONE}",
        "complainant": {"phone": PHONE, "name": NAME, "address": ADDRESS},
    }
    return f"hotline:{run_id}-1".encode(), json.dumps(body, ensure_ascii=False).encode()


async def send(bootstrap: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topic.RAW.value, value, key=key)
    finally:
        await producer.stop()


@pytest.mark.usefixtures("local_stack")
def test_contact_masked_revealed_with_a_logged_reason() -> None:
    asyncio.run(masked_and_revealed())


async def masked_and_revealed() -> None:
    run_id = f"privacy{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(8026)
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_origin=ORIGIN.isoformat(),
        extra_env={**channels, "SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"},
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    pipeline = Pipeline(config)
    staff = Staff(f"http://127.0.0.1:{config.port('sla')}")
    try:
        async with serving(receiver, port=config.receiver_port):
            pipeline.start_all()
            await pipeline.wait_ready()
            received = ORIGIN + (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor))
            await send(config.kafka, *raw_message(run_id, received))
            cid = await reveal_and_audit(staff, db)
            await erase_and_scan(staff, db, config, cid)
    finally:
        await staff.http.aclose()
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()


async def reveal_and_audit(staff: Staff, db: Any) -> str:
    async def listed() -> Json | None:
        page = (await staff.get("/cases", "manager")).json()
        return page if len(page["items"]) == 1 else None

    cid = (await until(listed, "the case to be listed"))["items"][0]["complaint_id"]
    view = (await staff.get(f"/cases/{cid}", "handler")).json()
    assert view["contact"] == {
        "phone": "139****5678",
        "name": "欧***",
        "address": "广东省深圳市****",
        "masked": True,
    }
    path = f"/cases/{cid}/contact/reveal"
    refused = await staff.post_to(path, {"reason": "回访客户"}, "handler")  # not assigned yet
    assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden_for_role")
    revealed = await staff.post_to(path, {"reason": "回访客户，核对地址"}, "lead")
    assert revealed.status_code == 200, revealed.text
    body = revealed.json()
    assert (body["phone"], body["name"], body["address"]) == (f"+86{PHONE}", NAME, ADDRESS)

    log = await staff.get("/cases/audit/access-log", "auditor", complaint_id=cid)
    assert log.status_code == 200, log.text
    [entry] = log.json()["items"]
    assert (entry["staff_id"], entry["role"], entry["fields"]) == (
        "lead-e2e",
        "lead",
        ["phone", "name", "address"],
    )
    assert (entry["reason"], entry["access_id"]) == ("回访客户，核对地址", body["access_id"])
    assert (await staff.get("/cases/audit/access-log", "manager")).status_code == 403
    stored = await db["contact_access"].find({}).to_list(None)
    assert [doc["_id"] for doc in stored] == [body["access_id"]]
    assert PHONE not in json.dumps(stored, default=str, ensure_ascii=False)
    return cid


async def complaints(*args: str) -> tuple[int, str]:
    """Run the `complaints` command; its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "complaints"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def act(staff: Staff, cid: str, role: str, body: Json) -> None:
    answer = await staff.post(cid, body, role)
    assert answer.status_code == 202, answer.text
    location = answer.headers["location"]

    async def applied() -> Json | None:
        polled = await staff.get(location, role)
        return polled.json() if polled.status_code == 200 else None

    await until(applied, f"{body['action']} applied")


async def held(db: Any) -> dict[str, str]:
    """Every collection of the run's database as text."""
    return {
        name: json.dumps(await db[name].find({}).to_list(None), default=str, ensure_ascii=False)
        for name in await db.list_collection_names()
    }


async def statistics(db: Any, cid: str) -> Json:
    [case] = await db["cases"].find({"_id": cid}).to_list(None)
    return {
        "case": {k: case.get(k) for k in ("state", "severity", "category", "verdict")},
        # the clocks as statistics count them (the scheduler's lease on a sheet comes and goes)
        "clocks": sorted(
            (c["key"], c["status"], str(c["due_at"])) for c in unpack_sheet(case["clocks"])
        ),
        "counts": {
            name: await db[name].count_documents({})
            for name in ("complaints", "classifications", "cases", "contacts")
        },
    }


async def erase_and_scan(staff: Staff, db: Any, config: StackConfig, cid: str) -> None:
    await act(
        staff,
        cid,
        "lead",
        {
            "action": "assigned",
            "action_id": "p-1",
            "assignee": "handler-e2e",
            "department": "billing",
        },
    )
    note = f"已电话联系{NAME}，确认地址{ADDRESS}"
    await act(staff, cid, "handler", {"action": "contacted", "action_id": "p-2", "note": note})
    where = ["--database", config.database, "--mongo-url", config.mongo, "--operator", "e2e"]
    status, exported = await complaints("privacy", "export", PHONE, *where)
    assert status == 0, exported
    assert NAME in exported
    assert ADDRESS in exported

    async def acknowledged() -> Json | None:  # the ack SMS's receipt: no move while we compare
        view = (await staff.get(f"/cases/{cid}", "manager")).json()
        ack = [c for c in view["clocks"] if c["clock"] == "acknowledge"]
        return view if ack and ack[0]["status"] == "met" else None

    await until(acknowledged, "the acknowledgement")
    before = await statistics(db, cid)
    texts = await held(db)
    found = {name for name, text in texts.items() if NAME in text or PHONE in text}
    assert {"contacts", "raw_payloads"} <= found  # the text and notes are masked or not kept

    status, erased = await complaints("privacy", "erase", PHONE, *where)
    assert status == 0, erased
    changed = json.loads(erased.splitlines()[-1])["changed"]
    assert (changed["contacts"], changed["raw_payloads"]) == (1, 1)
    await assert_gone(db)
    assert await statistics(db, cid) == before | {"counts": before["counts"]}

    # Later: the case goes on, and nothing brings the person's data back.
    await act(staff, cid, "handler", {"action": "resolved", "action_id": "p-3", "result": "已修复"})
    view = (await staff.get(f"/cases/{cid}", "manager")).json()
    assert view["contact"] is None
    assert view["state"] == "resolved"
    gone = await staff.post_to(f"/cases/{cid}/contact/reveal", {"reason": "回访客户"}, "manager")
    assert (gone.status_code, gone.json()["reason"]) == (404, "no_contact")
    await assert_gone(db)
    status, after = await complaints("privacy", "export", PHONE, *where)
    assert status == 1, after  # nobody is found by that phone any more
    [audit, *_] = await db["privacy_requests"].find({"action": "erase"}).to_list(None)
    assert (audit["operator"], audit["complaints"]) == ("e2e", [cid])


async def assert_gone(db: Any) -> None:
    """No collection holds the phone (any form), the name or the address."""
    for name, text in (await held(db)).items():
        for ident in (PHONE, NAME, ADDRESS):
            assert ident not in text, f"{name} still holds {ident[:2]}…"
