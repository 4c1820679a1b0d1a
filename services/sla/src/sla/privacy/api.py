"""The case API's privacy endpoints: reveal a case's contact (logged), read the access log.

`POST /cases/{id}/contact/reveal` answers the contact unmasked to the handler who works the case,
a lead of its department or a manager, and only after an access-log entry (who, when, which case,
which fields, why) is stored; `GET /cases/audit/access-log` lists the entries to auditors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request

from sla.casework.bodies import ApiProblemError, Problem
from sla.http_api.plumbing import COMPLAINT_ID, staff_member
from sla.privacy.contact import (
    AccessEntry,
    AccessEntryView,
    AccessLogPage,
    RevealedContact,
    RevealRequest,
)
from sla.privacy.ports import AccessQuery
from sla.privacy.reveal import RevealContact
from sla.settings import Role, StaffKey

ACCESS_LOG_PATH = "/cases/audit/access-log"
BEFORE = r"^[0-9]{1,13}\.[0-9a-f]{32}$"  # a page's next_before: <at ms>.<access id>
ACCESS_PARAMETERS = frozenset({"complaint_id", "staff_id", "before", "page_size"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Staff = Annotated[StaffKey, Depends(staff_member)]
CaseId = Annotated[str, Path(pattern=COMPLAINT_ID, description="Case number.")]


def _cursor_text(entry: AccessEntry) -> str:
    return f"{(entry.at - EPOCH) // timedelta(milliseconds=1)}.{entry.access_id}"


def _cursor_of(text: str) -> tuple[datetime, str]:
    millis, access_id = text.split(".", 1)
    return EPOCH + timedelta(milliseconds=int(millis)), access_id


def _view(entry: AccessEntry) -> AccessEntryView:
    return AccessEntryView(
        access_id=entry.access_id,
        at=entry.at,
        staff_id=entry.staff_id,
        role=entry.role,
        complaint_id=entry.complaint_id,
        fields=list(entry.fields),
        reason=entry.reason,
    )


def _responses(*answers: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "description": text} for status, text in answers}


def add_privacy_routes(app: FastAPI, reveal: RevealContact) -> None:
    """Add the reveal and access-log endpoints to the case API `app`."""

    @app.post(
        "/cases/{complaint_id}/contact/reveal",
        summary="The case's contact unmasked (logged)",
        responses=_responses(
            (400, "The body is not JSON text."),
            (401, "Missing or unknown API key."),
            (403, "Not your case, or your role may not reveal its contact."),
            (404, "No such case, or no contact held for it (`no_contact`)."),
            (422, "No reason given, or an unknown field asked for."),
            (503, "The access log could not be written: nothing was revealed."),
        ),
    )
    async def reveal_contact(
        complaint_id: CaseId, body: RevealRequest, who: Staff
    ) -> RevealedContact:
        """Phone, name and address unmasked, after an access-log entry with the reason."""
        return await reveal.reveal(complaint_id, body, who)

    @app.get(
        ACCESS_LOG_PATH,
        summary="Reads of unmasked personal data (auditors)",
        responses=_responses(
            (401, "Missing or unknown API key."),
            (403, "Only an auditor reads the access log."),
            (422, "An unknown or malformed query parameter."),
        ),
    )
    async def access_log(
        request: Request,
        who: Staff,
        *,
        complaint_id: Annotated[str | None, Query(pattern=COMPLAINT_ID)] = None,
        staff_id: Annotated[str | None, Query(max_length=64)] = None,
        before: Annotated[str | None, Query(pattern=BEFORE)] = None,
        page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> AccessLogPage:
        """Who read which case's contact unmasked, when and why; newest first."""
        if who.role is not Role.AUDITOR:
            raise ApiProblemError(403, "forbidden_for_role", "only an auditor reads the access log")
        names = [name for name, _ in request.query_params.multi_items()]
        if unknown := sorted(set(names) - ACCESS_PARAMETERS):
            raise ApiProblemError(422, "invalid_request", f"unknown query parameter {unknown[0]!r}")
        query = AccessQuery(
            complaint_id=complaint_id,
            staff_id=staff_id,
            before=_cursor_of(before) if before else None,
            limit=page_size + 1,
        )
        found = list(await reveal.entries(query))
        page, more = found[:page_size], len(found) > page_size
        return AccessLogPage(
            items=[_view(e) for e in page],
            next_before=_cursor_text(page[-1]) if more else None,
        )
