"""The HTTP guard: concurrency limit, time budget, body size, departed clients, bad-key throttle."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo import _csot
from pymongo.errors import OperationFailure

from servicekit.httpguard import HttpGuard, Message, Receive, Scope, Send, name_shed
from servicekit.metrics import KitMetrics
from servicekit.settings import HttpGuardSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock | None = None, **limits: Any) -> tuple[HttpGuard, CollectorRegistry]:
    registry = CollectorRegistry()
    made = HttpGuard(HttpGuardSettings(**limits), KitMetrics(registry, "sla"), clock or Clock())
    return made, registry


def scope(client: str = "10.0.0.1", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": headers or [],
        "client": (client, 5555),
    }


class Exchange:
    """One request: what the client sends, what it received."""

    def __init__(self, chunks: list[bytes] | None = None, leave_after: float | None = None) -> None:
        self.chunks = list(chunks or [b""])
        self.leave_after = leave_after
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.chunks:
            chunk = self.chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}
        if self.leave_after is None:
            await asyncio.Event().wait()  # a client that stays until the response ends
        await asyncio.sleep(self.leave_after or 0)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else None

    def header(self, name: bytes) -> bytes | None:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return dict(start["headers"]).get(name)

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        )
        return data


async def reply(send: Send, status: int, body: bytes = b"{}") -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


def value(registry: CollectorRegistry, reason: str) -> float:
    labels = {"service": "sla", "reason": reason}
    return registry.get_sample_value("complaints_http_shed_total", labels) or 0.0


async def test_beyond_the_concurrency_limit_a_request_is_shed_with_retry_after() -> None:
    made, registry = guard(max_concurrent=2)
    release = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await release.wait()
        await reply(send, 200)

    app = made.wrap(slow)
    first, second, third = Exchange(), Exchange(), Exchange()
    running = [asyncio.create_task(app(scope(), e.receive, e.send)) for e in (first, second)]
    await asyncio.sleep(0.01)
    await app(scope(), third.receive, third.send)
    assert third.status == 503
    assert third.header(b"retry-after") == b"1"
    assert third.body()["reason"] == "busy"
    release.set()
    await asyncio.gather(*running)
    assert (first.status, second.status) == (200, 200)
    assert value(registry, "busy") == 1


async def test_a_request_past_its_budget_is_cut_and_its_database_calls_carry_the_budget() -> None:
    made, registry = guard(request_timeout_seconds=0.2)
    seen: list[float | None] = []
    cancelled = asyncio.Event()

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(_csot.get_timeout())  # what PyMongo would send as maxTimeMS
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    exchange = Exchange()
    await made.wrap(stuck)(scope(), exchange.receive, exchange.send)
    assert exchange.status == 503
    assert exchange.body()["reason"] == "timeout"
    assert cancelled.is_set()
    assert seen[0] is not None
    assert 0 < seen[0] <= 0.2
    assert value(registry, "timeout") == 1


async def test_a_client_that_hangs_up_has_its_request_cancelled() -> None:
    made, registry = guard(request_timeout_seconds=5)
    cancelled = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    exchange = Exchange(leave_after=0.05)
    await asyncio.wait_for(made.wrap(slow)(scope(), exchange.receive, exchange.send), 2)
    assert cancelled.is_set()
    assert exchange.sent == []  # nobody to answer
    assert value(registry, "client_gone") == 1


async def test_bodies_over_the_limit_are_refused_declared_or_streamed() -> None:
    made, registry = guard(max_body_bytes=1000)
    called = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal called
        called += 1
        message = await receive()
        await reply(send, 200, json.dumps({"got": len(message["body"])}).encode())

    declared = Exchange()
    flood = scope(headers=[(b"content-length", b"10485760")])
    await made.wrap(app)(flood, declared.receive, declared.send)
    streamed = Exchange([b"x" * 600, b"x" * 600])
    await made.wrap(app)(scope(), streamed.receive, streamed.send)
    fine = Exchange([b"x" * 500, b"x" * 500])
    await made.wrap(app)(scope(), fine.receive, fine.send)
    assert (declared.status, streamed.status, fine.status) == (413, 413, 200)
    assert fine.body() == {"got": 1000}  # the app reads the whole body in one message
    assert called == 1
    assert value(registry, "oversize") == 2


async def test_wrong_keys_are_throttled_per_client_until_the_window_passes() -> None:
    clock = Clock()
    made, registry = guard(clock, auth_failures=3, auth_window_seconds=60)
    calls = 0

    async def locked(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal calls
        calls += 1
        await reply(send, 401)

    async def attempt(client: str) -> Exchange:
        exchange = Exchange()
        await made.wrap(locked)(scope(client), exchange.receive, exchange.send)
        return exchange

    statuses = [(await attempt("10.0.0.9")).status for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert calls == 3  # a throttled client's keys are not even tried
    clock.now += 30
    throttled = await attempt("10.0.0.9")
    assert throttled.header(b"retry-after") == b"30"
    assert (await attempt("10.0.0.10")).status == 401  # another client is unaffected
    clock.now += 31
    assert (await attempt("10.0.0.9")).status == 401
    assert value(registry, "too_many_auth_failures") == 3


async def test_any_database_error_is_a_503_with_retry_after_and_a_log_line_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made, registry = guard()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise OperationFailure("bad filter {phone: 13812345678}", code=2)

    exchange = Exchange()
    with caplog.at_level(logging.INFO):
        await made.wrap(broken)(scope(), exchange.receive, exchange.send)
    assert exchange.status == 503
    assert exchange.header(b"retry-after") == b"1"
    assert exchange.body()["reason"] == "database"
    [line] = [r for r in caplog.records if "503" in r.getMessage()]
    assert line.fields == {  # type: ignore[attr-defined]
        "method": "POST",
        "path": "/x",
        "error": "OperationFailure",
        "code": 2,
    }
    assert "13812345678" not in caplog.text
    assert value(registry, "database") == 1


async def test_a_503_the_app_answers_itself_is_counted_under_the_reason_it_names() -> None:
    made, registry = guard()

    async def narrower(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if scope["path"] == "/named":
            name_shed(scope, "list_busy")
        await reply(send, 503)

    for path in ("/named", "/named", "/plain"):
        exchange = Exchange()
        await made.wrap(narrower)({**scope(), "path": path}, exchange.receive, exchange.send)
        assert exchange.status == 503
    assert value(registry, "list_busy") == 2
    assert value(registry, "app") == 1
    assert value(registry, "busy") == 0
