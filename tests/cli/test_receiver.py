"""The local receiver checks each channel the way the real endpoint does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from complaints_cli.receiver import local_endpoints
from notifier.channels.robots import dingtalk_sign

CASE = "CP20261124-7K3M9Q2XAB"


def robot_body(text: str) -> bytes:
    return json.dumps({"msgtype": "text", "text": {"content": text}}).encode()


async def post(receiver: object, url: str, body: bytes, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=receiver)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        return await client.post(url, content=body, headers=headers)


async def test_wecom_robot_needs_its_key_and_answers_in_errcode() -> None:
    receiver, env = local_endpoints(8025)
    body = robot_body(f"【已超时】案件{CASE}")
    bad = await post(receiver, "/wecom?key=wrong", body)
    assert bad.status_code == 200
    assert bad.json()["errcode"] == 93000
    good = await post(receiver, f"/wecom?key={env['NOTIFIER_WECOM_KEY']}", body)
    assert good.json()["errcode"] == 0
    [delivery] = receiver.deliveries
    assert delivery.complaint_id == CASE
    assert receiver.rejected_signatures == 1


async def test_dingtalk_robot_checks_the_timestamp_signature() -> None:
    receiver, env = local_endpoints(8025)
    token, secret = env["NOTIFIER_DINGTALK_ACCESS_TOKEN"], env["NOTIFIER_DINGTALK_SECRET"]
    now = int(time.time() * 1000)
    sign = httpx.QueryParams({"sign": dingtalk_sign(secret, now)})
    url = f"/dingtalk?access_token={token}&timestamp={now}&{sign}"
    assert (await post(receiver, url, robot_body(CASE))).json()["errcode"] == 0
    stale = now - 2 * 3600 * 1000
    old = httpx.QueryParams({"sign": dingtalk_sign(secret, stale)})
    url = f"/dingtalk?access_token={token}&timestamp={stale}&{old}"
    assert (await post(receiver, url, robot_body(CASE))).json()["errcode"] == 310000
    assert len(receiver.deliveries) == 1


async def test_webhook_signature_is_checked() -> None:
    receiver, env = local_endpoints(8025)
    payload = {
        "id": "k",
        "complaint_id": CASE,
        "audience": "team_lead",
        "template": "t",
        "text": "x",
    }
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    secret = env["NOTIFIER_WEBHOOK_SECRET"].encode()
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    ok = await post(
        receiver, "/webhook", body, **{"x-timestamp": ts, "x-signature": f"sha256={mac}"}
    )
    assert ok.status_code == 200
    forged = await post(
        receiver, "/webhook", body, **{"x-timestamp": ts, "x-signature": "sha256=0"}
    )
    assert forged.status_code == 401
