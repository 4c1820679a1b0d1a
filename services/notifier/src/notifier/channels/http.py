"""HTTP JSON channels signed with HMAC-SHA256: an SMS gateway and a generic webhook."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from notifier.channels.base import Message, PermanentDeliveryError, TransientDeliveryError
from notifier.channels.wire import HttpClient, InvalidRequestError, Response, TransportError

Now = Callable[[], float]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Signature over `timestamp.body`, so a captured request cannot be replayed later."""
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def post_json(
    client: HttpClient,
    name: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """POST `body`; a timeout, a lost connection, 429 or 5xx is transient, another 4xx or a
    request HTTP cannot carry (a line break or non-ASCII text in a header) is not."""
    try:
        response = await client.post(
            url, body, {"content-type": "application/json; charset=utf-8", **(headers or {})}
        )
    except TransportError as exc:
        raise TransientDeliveryError(f"{name}: {type(exc).__name__}") from exc
    except InvalidRequestError as exc:
        raise PermanentDeliveryError(f"{name}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientDeliveryError(f"{name}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise PermanentDeliveryError(f"{name}: HTTP {response.status_code}")
    return response


def json_body(payload: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with Chinese kept readable (compact: the signature covers these bytes)."""
    return orjson.dumps(payload)


class SignedHttpChannel:
    """POSTs the message as JSON with `X-Signature`, `X-Timestamp` and `Idempotency-Key`."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        secret: bytes,
        client: HttpClient,
        now: Now = time.time,
    ) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._client = client
        self._now = now

    async def send(self, message: Message) -> None:
        """Deliver, classifying failures as transient (retry) or permanent."""
        body = json_body(
            {
                "id": message.key,
                "to": message.address or message.recipient,
                "recipient": message.recipient,
                "subject": message.subject,
                "text": message.body,
                "complaint_id": message.complaint_id,
                "audience": message.audience,
                "template": message.template,
            }
        )
        # The receiver checks freshness against its own clock: this is wall time, not case time.
        timestamp = str(int(self._now()))
        headers = {
            "x-timestamp": timestamp,
            "x-signature": f"sha256={sign(self._secret, timestamp, body)}",
            "idempotency-key": message.key,
        }
        await post_json(self._client, self.name, self._url, body, headers)
