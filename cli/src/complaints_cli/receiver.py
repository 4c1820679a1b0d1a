"""A local notification receiver standing in for the SMS gateway and staff webhooks.

It checks each request's HMAC signature, answers like a gateway, and records what arrived so the
demo and the end-to-end check count deliveries at the receiving end, not at the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Delivery:
    """One accepted request."""

    path: str
    key: str
    complaint_id: str
    audience: str
    template: str
    text: str


@dataclass
class Receiver:
    """ASGI app recording signed deliveries; can be told to fail for fault tests."""

    secrets: dict[str, bytes]
    deliveries: list[Delivery] = field(default_factory=list)
    rejected_signatures: int = 0
    fail_with: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        status = self._handle(scope["path"], dict(scope["headers"]), body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b'{"ok":%s}' % (b"true" if status == 200 else b"false"),
            }
        )

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
