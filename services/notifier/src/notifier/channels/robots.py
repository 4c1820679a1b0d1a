"""Group robots: WeCom (企业微信) and DingTalk (钉钉) custom robots, plain-text messages.

Both answer HTTP 200 even when they refuse a message; the JSON `errcode` says what happened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from notifier.channels.base import Message, PermanentDeliveryError, TransientDeliveryError
from notifier.channels.http import Now, json_body, post_json
from notifier.channels.wire import HttpClient, Response

WECOM_BUSY = frozenset({-1, 45009})
"""System busy; the robot's 20-messages-a-minute limit."""
DINGTALK_BUSY = frozenset({-1, 130101})
"""System busy; "send too fast" (20 messages a minute per robot)."""
TEXT_LIMIT = 2048
"""Bytes of UTF-8 a text message may carry (WeCom's documented limit; DingTalk allows more)."""


def robot_text(message: Message) -> str:
    """Subject and body, cut at a character boundary to fit the robots' size limit."""
    text = f"{message.subject}\n{message.body}" if message.subject else message.body
    return text.encode()[:TEXT_LIMIT].decode(errors="ignore")


def check_errcode(name: str, response: Response, busy: frozenset[int]) -> None:
    """Raise unless the robot's JSON answer says `errcode: 0`."""
    try:
        errcode = int(response.json().get("errcode", -1))
    except (ValueError, AttributeError, TypeError) as exc:
        raise TransientDeliveryError(f"{name}: answer is not robot JSON") from exc
    if errcode == 0:
        return
    if errcode in busy:
        raise TransientDeliveryError(f"{name}: errcode {errcode}")
    raise PermanentDeliveryError(f"{name}: errcode {errcode}")


class WeComRobotChannel:
    """Posts `{"msgtype": "text", ...}` to a WeCom group robot's webhook (key in the URL)."""

    name = "wecom"

    def __init__(self, *, url: str, key: str, client: HttpClient) -> None:
        self._url = f"{url}{'&' if '?' in url else '?'}key={quote_plus(key)}"
        self._client = client

    async def send(self, message: Message) -> None:
        """Deliver to the group, or raise."""
        body = json_body({"msgtype": "text", "text": {"content": robot_text(message)}})
        response = await post_json(self._client, self.name, self._url, body)
        check_errcode(self.name, response, WECOM_BUSY)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), before URL encoding."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingTalkRobotChannel:
    """Posts a text message to a DingTalk group robot, signed when the robot has a secret."""

    name = "dingtalk"

    def __init__(
        self,
        *,
        url: str,
        access_token: str,
        secret: str | None,
        client: HttpClient,
        now: Now = time.time,
    ) -> None:
        self._url = f"{url}{'&' if '?' in url else '?'}access_token={quote_plus(access_token)}"
        self._secret = secret
        self._client = client
        self._now = now

    def signed_url(self) -> str:
        """The robot URL with `timestamp` and `sign` (DingTalk rejects one older than an hour)."""
        if not self._secret:
            return self._url
        timestamp = int(self._now() * 1000)
        sign = quote_plus(dingtalk_sign(self._secret, timestamp))
        return f"{self._url}&timestamp={timestamp}&sign={sign}"

    async def send(self, message: Message) -> None:
        """Deliver to the group, or raise."""
        body = json_body({"msgtype": "text", "text": {"content": robot_text(message)}})
        response = await post_json(self._client, self.name, self.signed_url(), body)
        check_errcode(self.name, response, DINGTALK_BUSY)
