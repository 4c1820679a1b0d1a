"""A 不满意 answer and a review flag reach the recipients the pack names, on the real stack.

001 Art. 54: ask why, record it, have the responsible department follow up. One complaint is
walked through the case API to its callback, the handler records `dissatisfied` with the reason,
and the notifier tells the desk the pack names for the case's department (staff.yaml), once. A
manager then closes it as malicious with evidence (003: one malicious verdict flags the complainant
for human review, never a block; only a manager may give it), and the reviewing manager's desk
is told, once.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving
from tests._builders.case_api import KEYS, ORIGIN, staff_table

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]

# Issue 20: the handler and the lead work the network department's cases; the manager sees all.
STAFF = staff_table({"handler": "network", "lead": "network", "manager": None})


async def act(http: httpx.AsyncClient, cid: str, role: str, action: str, **fields: Any) -> None:
    """Post an action and poll its Location until the lifecycle consumer applied it."""
    body = {"action": action, "action_id": f"e2e-{action}", **fields}
    headers = {"X-Api-Key": KEYS[role]}
    answer = await http.post(f"/cases/{cid}/actions", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        polled = await http.get(answer.headers["location"], headers=headers)
        if polled.status_code == 200:
            return
        assert polled.status_code == 202, polled.text
        await asyncio.sleep(0.2)
    raise AssertionError(f"{action} on {cid} not applied within 30 s")


async def until_sent(receiver: Receiver, template: str, limit_s: float = 60) -> None:
    """Wait until the receiver got a message of `template`."""
    deadline = time.monotonic() + limit_s
    while not any(d.template == template for d in receiver.deliveries):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {template} within {limit_s} s")
        await asyncio.sleep(0.25)


async def to_callback() -> tuple[Receiver, str]:
    """Start the services, take one complaint in and walk it to a 不满意 callback; its id."""
    run_id = f"unhappy{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver_app, channels = local_endpoints(8025)
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_origin=ORIGIN.isoformat(),
        extra_env={**channels, "SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"},
    )
    pipeline = Pipeline(config)
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{config.port('sla')}", timeout=10.0)
    try:
        async with serving(receiver_app, port=config.receiver_port):
            pipeline.start_all()
            await pipeline.wait_ready()
            received = ORIGIN + (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor))
            [message] = workload.build(run_id=run_id, count=1, start=received)
            await workload.publish([message], bootstrap=config.kafka)
            await until_sent(receiver_app, "acknowledgement")
            cid = next(d.complaint_id for d in receiver_app.deliveries)
            await act(http, cid, "lead", "assigned", assignee="handler-e2e", department="network")
            await act(http, cid, "handler", "contacted")
            await act(http, cid, "handler", "resolved", result="restored the line")
            await until_sent(receiver_app, "customer_result")
            await act(
                http,
                cid,
                "handler",
                "callback_done",
                satisfaction="dissatisfied",
                note="the line drops again every evening",
            )
            await until_sent(receiver_app, "staff_dissatisfied")
            evidence = ["call-recording", "line-test-log"]
            await act(http, cid, "manager", "closed", verdict="malicious", evidence=evidence)
            await until_sent(receiver_app, "staff_review_needed")
            await asyncio.sleep(3.0)  # late duplicates, if any, arrive now
            return receiver_app, cid
    finally:
        await http.aclose()
        pipeline.stop_all()


@pytest.mark.timeout(600)
def test_a_dissatisfied_answer_and_a_review_flag_reach_their_desks(local_stack: None) -> None:
    receiver, cid = asyncio.run(to_callback())
    told = [d for d in receiver.deliveries if d.template == "staff_dissatisfied"]
    assert len(told) == 1
    [alert] = told
    assert alert.complaint_id == cid
    assert alert.audience == "team_lead"
    assert alert.key.endswith(":network-handler-desk")  # the case's department (staff.yaml)
    assert "+86" not in alert.text
    review = [d for d in receiver.deliveries if d.template == "staff_review_needed"]
    assert {d.audience for d in review} == {"manager"}
    assert any(d.key.endswith(":service-manager-desk") for d in review)
    assert all(d.complaint_id == cid and "+86" not in d.text for d in review)
    assert Counter(d.key for d in receiver.deliveries).most_common(1)[0][1] == 1
