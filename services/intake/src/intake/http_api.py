"""`POST /complaints`: the way in for channels that cannot speak Kafka.

The request is validated with the same domain code the Kafka consumer uses, so the caller hears
at once why a complaint is refused (and a dead-letter record is kept); an accepted complaint is
published to the raw topic and answered `202` with its case number. Each channel has its own API
key; a retry with the same `Idempotency-Key` and the same body gets the same answer and is taken
in once; the same key with a different body is refused (409), never silently dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from contracts.complaints import NormalizedComplaint
from intake.domain import IntakeLimits, Rejected, process_raw
from intake.domain.payload import decode_payload
from intake.domain.results import RejectError
from intake.metrics import IntakeMetrics
from intake.ports import RequestClaim
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SOURCE_TOPIC = "http:/complaints"
MAX_IDEMPOTENCY_KEY = 200


class PayloadTooLargeError(Exception):
    """The body exceeded the configured limit while streaming."""


@dataclass
class SubmissionEndpoint:
    """ASGI app answering `POST /complaints`."""

    api_keys: Mapping[str, str]  # channel -> key
    submit: Callable[[bytes, bytes], Awaitable[None]]  # (key, raw bytes) -> published
    dead_letter: Callable[[list[Rejection]], Awaitable[None]]
    claim: Callable[[str, str, str], Awaitable[RequestClaim]]  # (key, digest, id) -> the first
    clock: Clock
    secret: bytes
    limits: IntakeLimits
    metrics: IntakeMetrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            return
        status, body = await self._handle(scope, receive)
        self.metrics.http_requests.labels(str(status)).inc()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8")],
            }
        )
        await send(
            {"type": "http.response.body", "body": json.dumps(body, ensure_ascii=False).encode()}
        )

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        if scope["method"] != "POST":
            return 405, {"error": "method_not_allowed", "detail": "use POST"}
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        channel = self._channel_of(headers.get("x-api-key", ""))
        if channel is None:
            return 401, {"error": "unauthorized", "detail": "missing or unknown X-Api-Key"}
        try:
            raw = await _read_body(receive, self.limits.max_bytes)
        except PayloadTooLargeError:
            return 413, {
                "error": "oversize",
                "detail": f"body larger than {self.limits.max_bytes} bytes",
            }
        idempotency_key = headers.get("idempotency-key", "")[:MAX_IDEMPOTENCY_KEY] or None
        digest = _body_digest(raw, self.limits) if idempotency_key else ""
        raw = _with_external_id(raw, idempotency_key, self.limits)
        outcome = process_raw(raw, now=self.clock.now(), secret=self.secret, limits=self.limits)
        if isinstance(outcome, Rejected):
            self.metrics.rejected.labels(outcome.reason.value).inc()
            await self.dead_letter(
                [Rejection(self._inbound(raw), outcome.reason.value, outcome.detail)]
            )
            return 422, {
                "status": "rejected",
                "reason": outcome.reason.value,
                "detail": outcome.detail,
            }
        complaint = outcome.complaint
        if complaint.channel.value != channel:
            return 403, {
                "error": "forbidden",
                "detail": f"this API key may submit for channel {channel!r} only",
            }
        return await self._take(channel, complaint, raw, idempotency_key, digest)

    async def _take(
        self,
        channel: str,
        complaint: NormalizedComplaint,
        raw: bytes,
        idempotency_key: str | None,
        digest: str,
    ) -> tuple[int, dict[str, Any]]:
        """Publish an accepted complaint, unless its Idempotency-Key came with another body."""
        complaint_id = complaint.complaint_id
        if idempotency_key is not None:
            first = await self.claim(f"{channel}:{idempotency_key}", digest, complaint_id)
            if first.digest != digest:
                return 409, {
                    "error": "idempotency_key_reused",
                    "detail": "this Idempotency-Key was used with a different body;"
                    " send a new complaint with a new key",
                }
            complaint_id = first.complaint_id  # the same answer, even on another day
        key = f"{channel}:{complaint.external_id or complaint.complaint_id}".encode()
        await self.submit(key, raw)  # again on a retry: the first publish may have failed
        return 202, {"status": "accepted", "complaint_id": complaint_id}

    def _channel_of(self, presented: str) -> str | None:
        for channel, key in self.api_keys.items():
            if presented and hmac.compare_digest(presented.encode(), key.encode()):
                return channel
        return None

    def _inbound(self, raw: bytes) -> Inbound:
        return Inbound(
            topic=SOURCE_TOPIC,
            partition=-1,
            offset=-1,
            key=None,
            value=raw,
            timestamp_ms=int(time.time() * 1000),
        )


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _body_digest(raw: bytes, limits: IntakeLimits) -> str:
    """SHA-256 of the body as JSON with sorted keys (the bytes if it is not JSON), so a retry
    that serialises the same complaint differently is still the same request."""
    try:
        canonical = json.dumps(
            decode_payload(raw, limits=limits), sort_keys=True, ensure_ascii=False
        ).encode("utf-8", "surrogatepass")
    except RejectError:
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _with_external_id(raw: bytes, idempotency_key: str | None, limits: IntakeLimits) -> bytes:
    """Use the Idempotency-Key as the external id when the body has none (retries map to one id).

    The body is parsed with the domain's own strict reader, so a body it would refuse (nested too
    deep, a repeated key, a lone surrogate, an operator key) is passed on untouched and refused
    with its reason, never rewritten into one that passes.
    """
    if idempotency_key is None:
        return raw
    try:
        message = decode_payload(raw, limits=limits)
    except RejectError:
        return raw  # the domain will reject it with the right reason
    if message.get("external_id"):
        return raw
    message["external_id"] = f"idem:{idempotency_key}"
    return json.dumps(message, ensure_ascii=False).encode()
