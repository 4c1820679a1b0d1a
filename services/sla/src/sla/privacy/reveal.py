"""Revealing a case's contact: role-checked, logged before the data is handed out."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from servicekit.clock import Clock
from sla.casework.access import Desk, may_see
from sla.casework.bodies import ApiProblemError
from sla.casework.masking import masked
from sla.ports import CaseStore
from sla.privacy.contact import (
    AccessEntry,
    RevealedContact,
    RevealRequest,
    may_reveal,
)
from sla.privacy.ports import AccessLog, AccessQuery, ContactDirectory
from sla.settings import StaffKey

log = logging.getLogger(__name__)


def _ms(moment: datetime) -> datetime:
    """`moment` at millisecond precision, as MongoDB keeps it (so cursors agree)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class RevealContact:
    """Hands a case's contact unmasked to whoever works the case, after logging the read."""

    cases: CaseStore
    contacts: ContactDirectory
    access_log: AccessLog
    clock: Clock
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    async def reveal(
        self, complaint_id: str, request: RevealRequest, who: StaffKey
    ) -> RevealedContact:
        """The requested fields unmasked; 403 / 404 / 503 as `ApiProblemError`."""
        record = await self.cases.load(complaint_id)
        if record is None:
            raise ApiProblemError(404, "unknown_case", "no classified complaint with this id")
        desk = Desk.of(record)
        if not may_see(who, desk):
            detail = "the case is neither yours nor your department's"
            raise ApiProblemError(403, "not_your_case", detail)
        if not may_reveal(who, desk):
            detail = (
                "only the handler the case is assigned to, a lead of its department or a "
                "manager may reveal its contact"
            )
            raise ApiProblemError(403, "forbidden_for_role", detail)
        card = await self.contacts.card(complaint_id)
        if card is None:
            detail = "no contact is held for this case (never given, erased or expired)"
            raise ApiProblemError(404, "no_contact", detail)
        fields = tuple(dict.fromkeys(request.fields))
        entry = AccessEntry(
            access_id=self.new_id(),
            at=_ms(self.clock.now()),
            staff_id=who.staff_id,
            role=who.role.value,
            complaint_id=complaint_id,
            fields=fields,
            reason=masked(request.reason) or "",
        )
        try:
            await self.access_log.record(entry)
        except Exception as exc:  # whatever failed, no data leaves unlogged
            log.warning(
                "access log unavailable: reveal refused",
                extra={"fields": {"complaint_id": complaint_id, "error": type(exc).__name__}},
            )
            detail = "the access log could not be written; nothing was revealed"
            raise ApiProblemError(503, "access_log_unavailable", detail) from None
        shown = {name: card.field(name) for name in fields}
        return RevealedContact(complaint_id=complaint_id, access_id=entry.access_id, **shown)

    async def entries(self, query: AccessQuery) -> Sequence[AccessEntry]:
        """The access log (the auditor's view)."""
        return await self.access_log.entries(query)
