"""The channel interface every adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class TransientDeliveryError(Exception):
    """The channel may accept the message later (timeout, 5xx, 429): retry with backoff."""


class PermanentDeliveryError(Exception):
    """The channel refused the message for good (4xx, bad address): do not retry."""


@dataclass(frozen=True)
class Message:
    """One message on its way out.

    `recipient` is the stable recipient id (the customer or a directory entry); `address` the
    phone number or e-mail address where the channel needs one. Error messages raised by
    channels never contain either, so they can be logged and published.
    """

    key: str
    recipient: str
    address: str
    subject: str
    body: str
    html: str
    complaint_id: str
    audience: str
    template: str


class Channel(Protocol):
    """Sends one message; raises Transient- or PermanentDeliveryError on failure.

    What the notifier's exactly-once relies on (docs/notifier.md, *Exactly once*):
    - `send` may be called again with a message of the same `key`: a sender that dies after the
      provider accepted a message and before its outcome was stored leaves its claim, and once
      the claim's lease (`NOTIFIER_CLAIM_STALE_SECONDS`, renewed while the sender lives) runs
      out the dispatcher sends it again. Through the SMS gateway and the webhook a message goes
      before anything is stored (`sender.REPEAT_SAFE`, ADR 0038): then the event's redelivery
      sends it again, and replicas racing on one event may both send it. An adapter passes
      `key` to the provider as its idempotency key (HTTP `Idempotency-Key`, the e-mail's
      `Message-ID`).
    - The provider accepts a repeat of a key it accepted before without delivering it again,
      for at least `NOTIFIER_GIVE_UP_AFTER_HOURS` (6 h): the SMS gateway and the webhook must.
      A provider without it (the WeCom and DingTalk robots, staff groups only) may show such a
      message twice; customers are never addressed through one.
    - `send` returns only once the provider has taken the message; an error means it did not
      (a timeout is the one ambiguous case, and it is retried under the same key).
    """

    name: str

    async def send(self, message: Message) -> None:
        """Deliver `message` or raise."""
