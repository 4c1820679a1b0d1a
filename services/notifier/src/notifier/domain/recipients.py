"""Who an audience is: the customer from stored contact data, staff from the directory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts import Audience
from notifier.domain.intent import Intent
from notifier.domain.policy_values import PolicyError, check_channel

CUSTOMER = "customer"
"""Recipient id of the customer (their address comes from the contact book)."""


@dataclass(frozen=True)
class StaffEntry:
    """One way to reach one staff recipient (a person, a duty desk or a group robot)."""

    id: str
    audiences: frozenset[Audience]
    channel: str
    address: str = ""
    department: str | None = None
    staff_id: str | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> StaffEntry:
        """Parse one directory entry (YAML item or MongoDB document)."""
        if not isinstance(raw, Mapping):
            raise PolicyError("each staff entry must be a mapping")
        if not raw.get("id") or not raw.get("audiences") or not raw.get("channel"):
            raise PolicyError("each staff entry needs id, audiences and channel")
        try:
            audiences = frozenset(Audience(str(a)) for a in raw["audiences"])
        except ValueError as exc:
            raise PolicyError(f"staff entry {raw['id']!r}: {exc}") from exc
        if Audience.CUSTOMER in audiences:
            raise PolicyError(f"staff entry {raw['id']!r}: customers are not staff")
        return cls(
            id=str(raw["id"]),
            audiences=audiences,
            channel=check_channel(raw["channel"]),
            address=str(raw.get("address") or ""),
            department=str(raw["department"]) if raw.get("department") else None,
            staff_id=str(raw["staff_id"]) if raw.get("staff_id") else None,
        )


def parse_directory(items: Iterable[Mapping[str, Any]]) -> list[StaffEntry]:
    """Entries of a directory; a later entry with the same id replaces an earlier one."""
    by_id = {entry.id: entry for entry in (StaffEntry.from_mapping(i) for i in items)}
    return list(by_id.values())


@dataclass(frozen=True)
class Assignment:
    """Who handles a case, as the last accepted `assigned` action said."""

    complaint_id: str
    assignee: str | None
    department: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class CustomerContact:
    """The customer's raw contact data (never logged, never on broad topics)."""

    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Recipient:
    """Where one message goes: an id for keys and receipts, a channel and an address."""

    id: str
    channel: str
    address: str
    shown: str


@dataclass(frozen=True)
class Delivery:
    """One intent for one recipient: the unit that is claimed, sent once and receipted.

    `recipient` is None when the audience cannot be reached (no contact data on file).
    """

    key: str
    intent: Intent
    recipient: Recipient | None


def mask_phone(phone: str) -> str:
    """+8613812345678 → +86138****5678."""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


def mask_email(address: str) -> str:
    """zhang.wei@example.com → z***@example.com."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def customer_recipient(
    contact: CustomerContact | None, usable: Callable[[str], bool]
) -> Recipient | None:
    """SMS to the phone on file, else e-mail; None if neither is on file (or configured)."""
    if contact is None:
        return None
    if contact.phone and usable("sms"):
        return Recipient(CUSTOMER, "sms", contact.phone, mask_phone(contact.phone))
    if contact.email and usable("email"):
        return Recipient(CUSTOMER, "email", contact.email, mask_email(contact.email))
    return None


def staff_recipients(
    entries: Iterable[StaffEntry],
    *,
    audience: Audience,
    assignment: Assignment | None,
    usable: Callable[[str], bool],
) -> list[Recipient]:
    """The most specific match: the assigned handler, else the case's department, else default."""
    pool = [e for e in entries if audience in e.audiences and usable(e.channel)]
    assignee = assignment.assignee if assignment else None
    department = assignment.department if assignment else None
    tiers = [
        [e for e in pool if assignee and audience is Audience.HANDLER and e.staff_id == assignee],
        [e for e in pool if department and e.department == department and e.staff_id is None],
        [e for e in pool if e.department is None and e.staff_id is None],
    ]
    chosen = next((tier for tier in tiers if tier), [])
    return [Recipient(e.id, e.channel, e.address, _shown(e)) for e in chosen]


def _shown(entry: StaffEntry) -> str:
    if entry.channel == "sms" and entry.address:
        return f"{entry.id}:{mask_phone(entry.address)}"
    if entry.channel == "email" and entry.address:
        return f"{entry.id}:{mask_email(entry.address)}"
    return entry.id


def deliveries_for(intent: Intent, recipients: Iterable[Recipient]) -> list[Delivery]:
    """One delivery per recipient; staff keys name the recipient, the customer's do not."""
    out = []
    for r in recipients:
        key = intent.key if r.id == CUSTOMER else f"{intent.key}:{r.id}"
        out.append(Delivery(key, intent, r))
    return out
