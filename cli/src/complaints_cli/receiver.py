"""A local notification receiver standing in for the SMS gateway, staff webhook and group robots.

It checks each request the way the real endpoint would (HMAC signature for the gateway and webhook,
the robot key for WeCom, the timestamp signature for DingTalk), answers in that endpoint's format,
drops a gateway or webhook request repeating an accepted `Idempotency-Key` (counted in `replayed`:
the notifier's channel contract relies on it, docs/notifier.md), and records what arrived, so the
demo and the end-to-end checks count deliveries at the receiving end, not at the sender.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def read_body(receive: Receive) -> bytes:
    """The whole body of an ASGI HTTP request, however many messages it came in."""
    body = b""
    while True:
        event = await receive()
        body += bytes(event.get("body", b""))
        if not event.get("more_body"):
            return body


@dataclass
class Delivery:
    """One accepted request."""

    path: str
    key: str
    complaint_id: str
    audience: str
    template: str
    text: str
    at: float = field(default_factory=time.time)  # arrival (wall clock), for latency figures


CASE = re.compile(r"CP[0-9]{8}-[0-9A-Z]{10}")
ROBOT_OK = b'{"errcode":0,"errmsg":"ok"}'
ROBOT_BAD_KEY = b'{"errcode":93000,"errmsg":"invalid webhook url"}'
ROBOT_BAD_SIGN = b'{"errcode":310000,"errmsg":"sign not match"}'
SIGN_WINDOW_S = 3600


@dataclass(frozen=True)
class Robots:
    """What the local WeCom and DingTalk robots accept (empty: that robot is off)."""

    wecom_key: str = ""
    dingtalk_token: str = ""
    dingtalk_secret: str = ""


@dataclass
class Receiver:
    """ASGI app recording signed deliveries; can be told to fail for fault tests."""

    secrets: dict[str, bytes]
    robots: Robots = field(default_factory=Robots)
    deliveries: list[Delivery] = field(default_factory=list)
    rejected_signatures: int = 0
    fail_with: int | None = None
    replayed: int = 0
    """Requests repeating an `Idempotency-Key` already accepted: answered 200, not delivered
    again (what the channel contract asks of the SMS gateway and the webhook)."""
    _accepted: set[tuple[str, bytes]] = field(default_factory=set, repr=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        query = parse_qs(scope.get("query_string", b"").decode())
        if scope["path"] in {"/wecom", "/dingtalk"}:
            status, answer = self._robot(scope["path"], query, body)
        else:
            status = self._handle(scope["path"], dict(scope["headers"]), body)
            answer = b'{"ok":%s}' % (b"true" if status == 200 else b"false")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _robot(self, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, bytes]:
        """A group robot: HTTP 200 always, success or failure in `errcode` (as the real ones)."""
        if self.fail_with is not None:
            return self.fail_with, b"{}"
        one = {name: values[0] for name, values in query.items()}
        if path == "/wecom":
            if not self.robots.wecom_key or one.get("key") != self.robots.wecom_key:
                self.rejected_signatures += 1
                return 200, ROBOT_BAD_KEY
        elif not self._dingtalk_signed(one):
            self.rejected_signatures += 1
            return 200, ROBOT_BAD_SIGN
        payload = json.loads(body)
        text = str((payload.get("text") or payload.get("markdown") or {}).get("content", ""))
        found = CASE.search(text)
        key = hashlib.sha256(f"{path}|{text}".encode()).hexdigest()[:32]
        self.deliveries.append(
            Delivery(path, key, found.group(0) if found else "", "staff", path[1:], text)
        )
        return 200, ROBOT_OK

    def _dingtalk_signed(self, query: dict[str, str]) -> bool:
        robots = self.robots
        if not robots.dingtalk_token or query.get("access_token") != robots.dingtalk_token:
            return False
        try:
            timestamp = int(query.get("timestamp", ""))
        except ValueError:
            return False
        if abs(time.time() * 1000 - timestamp) > SIGN_WINDOW_S * 1000:
            return False
        digest = hmac.new(
            robots.dingtalk_secret.encode(),
            f"{timestamp}\n{robots.dingtalk_secret}".encode(),
            hashlib.sha256,
        ).digest()
        return hmac.compare_digest(query.get("sign", ""), base64.b64encode(digest).decode())

    def _handle(self, path: str, headers: dict[bytes, bytes], body: bytes) -> int:
        if self.fail_with is not None:
            return self.fail_with
        secret = self.secrets.get(path)
        if secret is None:
            return 404
        timestamp = headers.get(b"x-timestamp", b"")
        expected = hmac.new(secret, timestamp + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get(b"x-signature", b""), f"sha256={expected}".encode()):
            self.rejected_signatures += 1
            return 401
        idempotency = headers.get(b"idempotency-key")
        if idempotency:
            if (path, idempotency) in self._accepted:
                self.replayed += 1
                return 200
            self._accepted.add((path, idempotency))
        payload = json.loads(body)
        self.deliveries.append(
            Delivery(
                path,
                payload["id"],
                payload["complaint_id"],
                payload["audience"],
                payload["template"],
                payload["text"],
            )
        )
        return 200

    def customer_acks(self) -> Counter[str]:
        """Acknowledgements delivered per complaint id."""
        return Counter(
            d.complaint_id
            for d in self.deliveries
            if d.audience == "customer" and d.template.startswith("acknowledg")
        )

    def duplicate_keys(self) -> int:
        """Notification keys delivered more than once."""
        return sum(1 for n in Counter(d.key for d in self.deliveries).values() if n > 1)


@contextlib.asynccontextmanager
async def serving(receiver: Receiver, *, port: int) -> AsyncIterator[Receiver]:
    """Serve `receiver` on 127.0.0.1:`port` for the duration of the block."""
    server = uvicorn.Server(
        uvicorn.Config(
            receiver, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


def local_endpoints(port: int) -> tuple[Receiver, dict[str, str]]:
    """A receiver with fresh secrets, and the notifier settings that point every channel at it."""
    sms, hook = secrets.token_hex(16), secrets.token_hex(16)
    robots = Robots(
        wecom_key=secrets.token_hex(8),
        dingtalk_token=secrets.token_hex(8),
        dingtalk_secret=f"SEC{secrets.token_hex(16)}",
    )
    receiver = Receiver(secrets={"/sms": sms.encode(), "/webhook": hook.encode()}, robots=robots)
    base = f"http://127.0.0.1:{port}"
    env = {
        "NOTIFIER_SMS_GATEWAY_SECRET": sms,
        "NOTIFIER_WEBHOOK_SECRET": hook,
        "NOTIFIER_WECOM_URL": f"{base}/wecom",
        "NOTIFIER_WECOM_KEY": robots.wecom_key,
        "NOTIFIER_DINGTALK_URL": f"{base}/dingtalk",
        "NOTIFIER_DINGTALK_ACCESS_TOKEN": robots.dingtalk_token,
        "NOTIFIER_DINGTALK_SECRET": robots.dingtalk_secret,
    }
    return receiver, env
