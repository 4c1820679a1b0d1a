"""Intake on the real stack: every message is either accepted or dead-lettered with its reason."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from contracts import MessageDeadLettered, Topic
from servicekit.mongo import find_all
from tests._builders.stack import start_local_stack

ROOT = Path(__file__).resolve().parents[2]
API_KEY = secrets.token_hex(8)
pytestmark = [pytest.mark.stack, pytest.mark.e2e]


def hostile(run: str) -> list[tuple[bytes, str]]:
    """Bad messages, each carrying the run id in its bytes, with the reason intake must give."""
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    deep: object = {"channel": "web", "text": f"deep {run}"}
    for _ in range(60):
        deep = {"x": deep}
    return [
        (f"not json {run}".encode(), "not_json"),
        (b"\xff\xfe" + run.encode(), "invalid_utf8"),
        (json.dumps({"channel": "web", "text": "   ", "external_id": run}).encode(), "empty_text"),
        (json.dumps({"channel": "pigeon", "text": f"hi {run}"}).encode(), "unknown_channel"),
        (
            json.dumps({"channel": "web", "text": f"x {run}", "$where": "1"}).encode(),
            "operator_keys",
        ),
        (
            json.dumps({"channel": "web", "text": f"x {run}", "meta": {"$gt": ""}}).encode(),
            "operator_keys",
        ),
        (json.dumps(deep).encode(), "too_deep"),
        (
            json.dumps({"channel": "web", "text": f"x {run}", "received_at": future}).encode(),
            "future_timestamp",
        ),
        (
            json.dumps(
                {"channel": "web", "text": f"{run} " + "长" * 100_000}, ensure_ascii=False
            ).encode(),
            "oversize",
        ),  # 300 KB > the 256 KiB limit
        (json.dumps({"channel": "web", "text": 12345, "external_id": run}).encode(), "wrong_shape"),
        (json.dumps([run]).encode(), "wrong_shape"),
    ]


async def dead_letters(bootstrap: str, run: str, digests: frozenset[str]) -> dict[str, str]:
    """Dead-letter records whose original bytes carry `run`, or whose digest is one of
    `digests` (an original over the dead-letter bound is recorded without its bytes)."""
    consumer = AIOKafkaConsumer(
        Topic.DLQ.value,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[str, str] = {}
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                break
            for records in batch.values():
                for record in records:
                    letter = MessageDeadLettered.model_validate_json(record.value).data
                    payload = base64.b64decode(letter.payload_base64)
                    if run.encode() in payload:
                        found[hashlib.sha256(payload).hexdigest()] = letter.reason
                    elif letter.payload_omitted and letter.payload_sha256 in digests:
                        found[letter.payload_sha256] = letter.reason
    finally:
        await consumer.stop()
    return found


async def scenario() -> None:
    run = f"mix{secrets.token_hex(4)}"
    config = StackConfig(
        database="complaints_intake_e2e",
        extra_env={"INTAKE_API_KEYS": json.dumps({"web": API_KEY})},
    )
    pipeline = Pipeline(config)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongo, tz_aware=True)
    try:
        pipeline.start_all(["intake"])
        await pipeline.wait_ready()
        good = list(workload.build(run_id=run, count=40, start=datetime.now(UTC)))
        bad = hostile(run)
        await workload.publish(good, bootstrap=config.kafka)
        await workload.publish(
            [workload.RawMessage(b"bad", raw, "") for raw, _ in bad], bootstrap=config.kafka
        )
        url = f"http://127.0.0.1:{config.port('intake')}/complaints"
        body = {
            "channel": "web",
            "text": f"网页投诉：宽带断网 {run}",
            "complainant": {"phone": "13900001111"},
        }
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"X-Api-Key": API_KEY, "Idempotency-Key": f"{run}-h1"}
            first = await http.post(url, json=body, headers=headers)
            again = await http.post(url, json=body, headers=headers)
            refused = await http.post(
                url, content=f"{{ {run}".encode(), headers={"X-Api-Key": API_KEY}
            )
            no_key = await http.post(url, json=body)
        assert first.status_code == again.status_code == 202
        assert first.json()["complaint_id"] == again.json()["complaint_id"]
        assert (refused.status_code, refused.json()["reason"]) == (422, "not_json")
        assert no_key.status_code == 401

        sent_kafka = len(good) + len(bad)
        digests = frozenset(hashlib.sha256(raw).hexdigest() for raw, _ in bad)
        expected_rejected = len(bad) + 1  # plus the HTTP one
        db = client[config.database]
        deadline = time.monotonic() + 90
        while True:
            accepted = await find_all(
                db["complaints"], {"external_id": {"$regex": f"^{run}-"}}, {"_id": 1}
            )
            via_http = await find_all(db["complaints"], {"_id": first.json()["complaint_id"]})
            rejected = await dead_letters(config.kafka, run, digests)
            if (
                len(accepted) == len(good) and via_http and len(rejected) >= expected_rejected
            ) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        sys.stdout.write(
            f"\nintake e2e: {sent_kafka + 2} sent (Kafka {sent_kafka}, HTTP 2 "
            f"distinct), {len(accepted) + len(via_http)} accepted, "
            f"{len(rejected)} dead-lettered\n"
        )
        assert len(accepted) == len(good)
        assert len(via_http) == 1
        assert len(accepted) + len(rejected) == len(good) + expected_rejected
        assert sorted(rejected.values()) == sorted([reason for _, reason in bad] + ["not_json"])
    finally:
        pipeline.stop_all()
        await client.close()


def test_accepted_plus_rejected_equals_sent(capsys: pytest.CaptureFixture[str]) -> None:
    start_local_stack()
    with capsys.disabled():
        asyncio.run(scenario())
