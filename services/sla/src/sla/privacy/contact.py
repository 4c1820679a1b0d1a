"""A case's contact as staff see it: masked by default, revealed only with a logged reason.

The contact (phone, name, address) is intake's, read through the declared read model
`STAFF_CONTACTS`; the case API shows it masked (`138****5678`, `张*`, `北京市朝阳区****`) to
everyone who may read the case, and unmasked only to whoever works it, for a stated reason, with
an entry in the access log (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from sla.casework.access import Desk, may_see
from sla.settings import Role, StaffKey

ContactField = Literal["phone", "name", "address"]
CONTACT_FIELDS: tuple[ContactField, ...] = ("phone", "name", "address")
ADDRESS_SHOWN = 6
"""Characters of an address shown masked: about the province and city, never the street."""


@dataclass(frozen=True)
class ContactCard:
    """The customer's contact as intake stored it (personal data: never logged)."""

    phone: str | None = None
    name: str | None = None
    address: str | None = None

    def field(self, name: ContactField) -> str | None:
        """One field by its API name."""
        value: str | None = getattr(self, name)
        return value


def mask_phone(phone: str) -> str:
    """`+8613812345678` → `138****5678`: the carrier prefix and the last four digits."""
    digits = phone.removeprefix("+86") if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """`张三丰` → `张**`: the family name only."""
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    """The first few characters (province, city), the rest hidden."""
    shown = min(ADDRESS_SHOWN, len(address) // 2)
    return address[:shown] + "****"


class ContactView(BaseModel):
    """The customer's contact, masked (what every key that may read the case sees)."""

    model_config = ConfigDict(frozen=True)

    phone: str | None = Field(description="Masked, e.g. 138****5678.")
    name: str | None = Field(description="Masked: the family name only, e.g. 张*.")
    address: str | None = Field(description="Masked: the first few characters only.")
    masked: Literal[True] = True

    @classmethod
    def of(cls, card: ContactCard) -> ContactView:
        """The masked view of a contact."""
        return cls(
            phone=mask_phone(card.phone) if card.phone else None,
            name=mask_name(card.name) if card.name else None,
            address=mask_address(card.address) if card.address else None,
        )


Reason = Annotated[
    str, StringConstraints(min_length=4, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")
]


class RevealRequest(BaseModel):
    """Why the staff member needs the contact unmasked, and which fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Reason = Field(description="Why (kept in the access log), e.g. 回访客户.")
    fields: list[ContactField] = Field(
        default_factory=lambda: list(CONTACT_FIELDS),
        min_length=1,
        max_length=3,
        description="Which fields to reveal (default: all three).",
    )


class RevealedContact(BaseModel):
    """The requested fields unmasked, and the access-log entry that records the reveal."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    phone: str | None = None
    name: str | None = None
    address: str | None = None
    access_id: str = Field(description="The access-log entry written for this reveal.")


@dataclass(frozen=True)
class AccessEntry:
    """One read of unmasked personal data: who, when, which case, which fields, why."""

    access_id: str
    at: datetime
    staff_id: str
    role: str
    complaint_id: str
    fields: tuple[str, ...]
    reason: str


class AccessEntryView(BaseModel):
    """An access-log entry as the auditor reads it."""

    model_config = ConfigDict(frozen=True)

    access_id: str
    at: AwareDatetime
    staff_id: str
    role: str
    complaint_id: str
    fields: list[str]
    reason: str


class AccessLogPage(BaseModel):
    """Access-log entries, newest first, and where the next page starts."""

    model_config = ConfigDict(frozen=True)

    items: list[AccessEntryView]
    next_before: str | None = Field(description="Pass as `before` for the next (older) page.")


def may_reveal(who: StaffKey, desk: Desk) -> bool:
    """Whether `who` may read the case's contact unmasked: a manager; a lead of the case's
    department; the handler the case is assigned to or owned by. Never an auditor, never a
    handler merely because the case sits in their department's queue."""
    if who.role is Role.MANAGER:
        return True
    if who.role is Role.LEAD:
        return may_see(who, desk)
    if who.role is Role.HANDLER:
        return who.staff_id in {desk.assignee, desk.owner}
    return False
