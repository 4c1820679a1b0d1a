"""HTTP JSON channels signed with HMAC-SHA256: an SMS gateway and a generic webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from notifier.channels.base import Message, PermanentDeliveryError, TransientDeliveryError


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Signature over `timestamp.body`, so a captured request cannot be replayed later."""
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class SignedHttpChannel:
    """POSTs the message as JSON with `X-Signature`, `X-Timestamp` and `Idempotency-Key`."""

    def __init__(self, *, name: str, url: str, secret: bytes, client: httpx.AsyncClient) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._client = client

    async def send(self, message: Message) -> None:
        """Deliver, classifying failures as transient (retry) or permanent."""
        body = json.dumps(
            {
                "id": message.key,
                "to": message.recipient,
                "subject": message.subject,
                "text": message.body,
                "complaint_id": message.complaint_id,
                "audience": message.audience,
                "template": message.template,
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-timestamp": timestamp,
            "x-signature": f"sha256={sign(self._secret, timestamp, body)}",
            "idempotency-key": message.key,
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise TransientDeliveryError(f"{self.name}: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientDeliveryError(f"{self.name}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"{self.name}: HTTP {response.status_code}")
