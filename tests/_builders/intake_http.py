"""Intake's `POST /complaints` endpoint in process: a rig that speaks ASGI to it, and bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry

from intake.adapters.memory import InMemoryComplaintStore
from intake.domain import IntakeLimits
from intake.http_api import SubmissionEndpoint
from intake.metrics import IntakeMetrics
from servicekit.clock import FakeClock
from servicekit.delivery import Rejection

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
WEB_KEY, APP_KEY = "web-key-123", "app-key-456"


class Rig:
    """The endpoint with collecting submit / dead-letter callbacks; `post` sends one request."""

    def __init__(self, *, max_bytes: int = 256 * 1024) -> None:
        self.submitted: list[tuple[bytes, bytes]] = []
        self.dead: list[Rejection] = []
        self.store = InMemoryComplaintStore()
        self.clock = FakeClock(NOW)
        self.endpoint = SubmissionEndpoint(
            api_keys={"web": WEB_KEY, "app": APP_KEY},
            submit=self._submit,
            dead_letter=self._dead_letter,
            claim=self.store.claim_request,
            clock=self.clock,
            secret=b"s",
            limits=IntakeLimits(max_bytes=max_bytes),
            metrics=IntakeMetrics(CollectorRegistry()),
        )

    async def _submit(self, key: bytes, raw: bytes) -> None:
        self.submitted.append((key, raw))

    async def _dead_letter(self, rejections: list[Rejection]) -> None:
        self.dead.extend(rejections)

    async def post(
        self,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        chunk: int = 0,
    ) -> tuple[int, dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
        messages = [
            {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
            for i, p in enumerate(parts)
        ]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": method,
            "path": "/complaints",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }
        await self.endpoint(scope, receive, send)
        return sent[0]["status"], json.loads(sent[1]["body"])


def complaint(**overrides: Any) -> bytes:
    """A valid web complaint body, with `overrides`."""
    message = {
        "channel": "web",
        "text": "宽带已经断网三天了，报修无人上门，要求尽快处理。",
        "complainant": {"phone": "13812345678"},
        **overrides,
    }
    return json.dumps(message, ensure_ascii=False).encode()
