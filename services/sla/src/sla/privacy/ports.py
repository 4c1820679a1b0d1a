"""What the case API's privacy endpoints need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sla.privacy.contact import AccessEntry, ContactCard


class ContactDirectory(Protocol):
    """Intake's contacts, read through the declared read model `STAFF_CONTACTS`."""

    async def card(self, complaint_id: str) -> ContactCard | None:
        """The contact of one complaint, or None if none is held (or it was erased)."""
        ...


@dataclass(frozen=True)
class AccessQuery:
    """Which access-log entries: of a case, of a staff member, older than a cursor."""

    complaint_id: str | None = None
    staff_id: str | None = None
    before: tuple[datetime, str] | None = None
    limit: int = 50


class AccessLog(Protocol):
    """Every read of unmasked personal data, kept apart from the service logs."""

    async def record(self, entry: AccessEntry) -> None:
        """Keep one entry (before the data is handed out)."""
        ...

    async def entries(self, query: AccessQuery) -> Sequence[AccessEntry]:
        """Matching entries, newest first (`at`, then `access_id`, descending)."""
        ...

    async def ensure_indexes(self) -> None:
        """Indexes for the auditor's queries."""
        ...
