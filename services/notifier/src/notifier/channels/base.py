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
    """Sends one message; raises Transient- or PermanentDeliveryError on failure."""

    name: str

    async def send(self, message: Message) -> None:
        """Deliver `message` or raise."""
