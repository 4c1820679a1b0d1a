"""Bounds around a service's HTTP API: concurrency, time, body size, departed clients, bad keys.

Every API route a service mounts goes through one `HttpGuard` (the shell wraps them; `/metrics`,
`/healthz` and `/readyz` stay outside, so probes answer while the API sheds load). A request
beyond the concurrency limit is answered 503 with `Retry-After` at once instead of queueing; one
that outlives its time budget is cut off (503), and every MongoDB operation inside it carries the
remaining budget (`pymongo.timeout`, sent as `maxTimeMS`); a client that hangs up has its request
cancelled; a client that keeps presenting wrong keys is answered 429 until its window passes.
A 503 the wrapped app answers itself (its own narrower limits, a database error it turned into an
answer) is counted too, under the reason it put in `scope["state"]["shed_reason"]` (else `app`):
every 503 a client gets has a reason in `complaints_http_shed_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pymongo
from pymongo.errors import PyMongoError

from servicekit.metrics import KitMetrics
from servicekit.settings import HttpGuardSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_TRACKED_CLIENTS = 10_000  # bad-key windows kept; the oldest client is forgotten first
SHED_REASON = "shed_reason"
"""Where an app behind the guard names why it answered 503 (`request.state.shed_reason`)."""


def name_shed(scope: Scope, reason: str) -> None:
    """Name the reason of a 503 the app answers itself, for the guard's count."""
    scope.setdefault("state", {})[SHED_REASON] = reason


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str, detail: str, retry_after: int | None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class HttpGuard:
    """One per service: the routes it wraps share its concurrency limit and bad-key windows."""

    def __init__(
        self,
        settings: HttpGuardSettings,
        metrics: KitMetrics,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._metrics = metrics
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._now = monotonic

    def wrap(self, app: ASGI) -> ASGI:
        """`app` behind this guard (non-HTTP scopes pass through)."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            await self._serve(app, scope, receive, send)

        return guarded

    async def _serve(self, app: ASGI, scope: Scope, receive: Receive, send: Send) -> None:
        client = _client(scope)
        started = _Started(send)
        try:
            self._check_client(client)
            self._check_declared_size(scope)
            self._check_free_slot()
            async with self._slots:
                await self._within_budget(app, scope, receive, started)
            if started.status == 503:  # the app's own shedding: counted like the guard's
                reason = str((scope.get("state") or {}).get(SHED_REASON) or "app")
                self._metrics.http_shed.labels(self._metrics.service, reason).inc()
        except _RefusedError as refused:
            self._metrics.http_shed.labels(self._metrics.service, refused.reason).inc()
            if not started.status:
                await _answer(send, refused)
        if started.status == 401:
            self._count_failure(client)

    async def _within_budget(
        self, app: ASGI, scope: Scope, receive: Receive, sent: _Started
    ) -> None:
        budget = self.settings.request_timeout_seconds
        try:
            with pymongo.timeout(budget):  # each database operation gets the time left
                async with asyncio.timeout(budget):
                    body = await self._read_body(receive)
                    await _until_client_leaves(app, scope, body, receive, sent)
        except TimeoutError:
            raise _RefusedError(
                503,
                "timeout",
                f"not answered within {budget:g} s",
                self.settings.retry_after_seconds,
            ) from None
        except PyMongoError as exc:
            # Any database error (not only a timeout) is the database's, not the request's:
            # 503 with Retry-After and one log line naming the error's class, never its text
            # (a server message may quote the filter, and so personal data).
            slow = bool(getattr(exc, "timeout", False))
            reason = "timeout" if slow else "database"
            log.warning(
                "request answered 503: database %s",
                "timeout" if slow else "error",
                extra={"fields": database_fields(scope, exc)},
            )
            detail = "the database did not answer in time" if slow else "the database failed"
            raise _RefusedError(503, reason, detail, self.settings.retry_after_seconds) from None

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _RefusedError(499, "client_gone", "the client left", None)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise _RefusedError(413, "oversize", self._too_large(), None)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _check_free_slot(self) -> None:
        if self._slots.locked():  # no queue: a queue only makes every answer late
            raise _RefusedError(
                503, "busy", "too many requests at once", self.settings.retry_after_seconds
            )

    def _check_declared_size(self, scope: Scope) -> None:
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            raise _RefusedError(413, "oversize", self._too_large(), None)

    def _too_large(self) -> str:
        return f"the body is larger than {self.settings.max_body_bytes} bytes"

    def _check_client(self, client: str) -> None:
        window = self._window(client)
        if len(window) >= self.settings.auth_failures:
            wait = window[0] + self.settings.auth_window_seconds - self._now()
            raise _RefusedError(
                429, "too_many_auth_failures", "too many wrong keys; wait", max(1, math.ceil(wait))
            )

    def _window(self, client: str) -> deque[float]:
        window = self._failures.get(client)
        if window is None:
            return deque()
        horizon = self._now() - self.settings.auth_window_seconds
        while window and window[0] <= horizon:
            window.popleft()
        if not window:
            del self._failures[client]
        return window

    def _count_failure(self, client: str) -> None:
        window = self._window(client)
        self._failures[client] = window
        self._failures.move_to_end(client)
        window.append(self._now())
        while len(self._failures) > MAX_TRACKED_CLIENTS:
            self._failures.popitem(last=False)


class _Started:
    """Wraps `send`, remembering the status once the response has started."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.complete = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            self.complete = True
        await self._send(message)


async def _until_client_leaves(
    app: ASGI, scope: Scope, body: bytes, receive: Receive, sent: _Started
) -> None:
    """Run `app` with the read `body`; cancel it if the client disconnects first."""
    gone = asyncio.Event()
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def run() -> None:
        await app(scope, replay, sent)

    handler = asyncio.create_task(run())

    async def watch() -> None:
        # After the body, the server's next message is a disconnect (or the response's end).
        if (await receive())["type"] == "http.disconnect":
            gone.set()
            if not sent.complete and not handler.done():
                handler.cancel()

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.shield(handler)
    except asyncio.CancelledError:
        if not handler.cancelled():
            handler.cancel()  # our own caller was cancelled (timeout): stop the handler too
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await handler
            raise
        if not gone.is_set():
            raise
        raise _RefusedError(499, "client_gone", "the client left", None) from None
    finally:
        watcher.cancel()


async def _answer(send: Send, refused: _RefusedError) -> None:
    if refused.status == 499:
        return  # nobody to answer
    headers = [(b"content-type", b"application/json")]
    if refused.retry_after is not None:
        headers.append((b"retry-after", str(refused.retry_after).encode()))
    body = {"error": refused.reason, "reason": refused.reason, "detail": refused.detail}
    with contextlib.suppress(Exception):  # the client may be gone already
        await send({"type": "http.response.start", "status": refused.status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def database_fields(scope: Scope, exc: PyMongoError) -> dict[str, Any]:
    """What a log line says about a database error in a request: the route and the error's
    class and code, never its message or the query string (either may carry personal data)."""
    return {
        "method": str(scope.get("method", "")),
        "path": str(scope.get("path", ""))[:200],
        "error": type(exc).__name__,
        "code": getattr(exc, "code", None),
    }


def _client(scope: Scope) -> str:
    """The peer address (forwarding headers can be forged, so they are not trusted)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
