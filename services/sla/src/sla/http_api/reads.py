"""Reading cases: one case, and pages of cases matching filters (keyset paging, ADR 0007)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.exceptions import HTTPException

from contracts import CaseState, Channel, Severity
from servicekit.clock import Clock
from servicekit.httpguard import name_shed
from sla.casework.access import Desk, NotYourCaseError, may_see
from sla.casework.bodies import ApiProblemError
from sla.casework.desk import PREFIX
from sla.http_api.plumbing import RETRY_AFTER, CaseId, Staff, responses
from sla.list_cursor import BadCursorError, cursor_of
from sla.ports import MAX_PAGE, CaseFilter
from sla.queries import CasePage, CaseQueries, CaseQuery, CaseView

CATEGORY = r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*$"  # a taxonomy path, e.g. billing/overcharge
LIST_SLOTS = 2  # list requests at once (FerretDB 1.x scans `cases` for each); more get 503
LIST_PARAMETERS = frozenset(
    {
        "state",
        "severity",
        "category",
        "channel",
        "overdue",
        "due_within_hours",
        "assignee",
        "after",
        "page_size",
    }
)


def _plain_query(request: Request, _: Staff) -> None:
    """Refuse list parameters the API does not know (`state[$ne]`) or that repeat: a filter
    it cannot apply must not silently widen the answer. (After the key check.)"""
    names = [name for name, _ in request.query_params.multi_items()]
    if unknown := sorted(set(names) - LIST_PARAMETERS):
        shown = ", ".join(repr(n[:40]) for n in unknown[:3])
        raise ApiProblemError(422, "invalid_request", f"unknown query parameter {shown}")
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise ApiProblemError(422, "invalid_request", f"query parameter {repeated[0]!r} repeats")


def _continued(query: CaseQuery, after: str | None) -> CaseQuery:
    """The query continued after its cursor, or 400: a cursor is opaque, and one this list did
    not give out (another filter, another order, edited) names no position in it."""
    if after is None:
        return query
    try:
        key = cursor_of(after, by_due=query.by_due, scope=query.scope)
    except BadCursorError as error:
        detail = f"`after` is not this list's next_after ({error})"
        raise ApiProblemError(400, "invalid_cursor", detail) from None
    return replace(query, after=key)


def read_routes(queries: CaseQueries, clock: Clock) -> APIRouter:
    """`GET /cases/{id}` and `GET /cases`."""
    router = APIRouter()
    list_slots = asyncio.Semaphore(LIST_SLOTS)

    @router.get(
        f"{PREFIX}/{{complaint_id}}",
        summary="One case",
        responses=responses(401, 403, 404, 422, 503),
    )
    async def show_case(complaint_id: CaseId, who: Staff) -> CaseView:
        """The case (if it is the staff member's, their department's or its queue's): state,
        clocks, notifications and full history."""
        try:
            view = await queries.case(
                complaint_id, now=clock.now(), allowed=lambda r: may_see(who, Desk.of(r))
            )
        except NotYourCaseError:
            detail = "the case is neither yours nor your department's"
            raise ApiProblemError(403, "not_your_case", detail) from None
        if view is None:
            raise ApiProblemError(404, "unknown_case", "no classified complaint with this id")
        return view

    @router.get(
        PREFIX,
        summary="Cases matching filters",
        responses=responses(401, 422, 503),
        dependencies=[Depends(_plain_query)],
    )
    async def list_cases(
        request: Request,
        who: Staff,
        *,
        state: CaseState | None = None,
        severity: Severity | None = None,
        category: Annotated[str | None, Query(max_length=100, pattern=CATEGORY)] = None,
        channel: Channel | None = None,
        overdue: Annotated[bool, Query(description="Only cases with a clock past due.")] = False,
        due_within_hours: Annotated[
            float | None, Query(gt=0, le=8760, description="Only cases with a clock due soon.")
        ] = None,
        assignee: Annotated[str | None, Query(max_length=64)] = None,
        after: Annotated[
            str | None, Query(description="The previous page's `next_after` (opaque).")
        ] = None,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> CasePage:
        """Cases matching every filter given, oldest first, one page at a time (keyset paging)."""
        if list_slots.locked():  # shed at once: a queue of lists only makes every answer late
            name_shed(request.scope, "list_busy")
            raise HTTPException(503, "too many list requests at once", {"Retry-After": RETRY_AFTER})
        async with list_slots:
            query = CaseQuery(
                fields=CaseFilter(state, severity, category, channel, assignee),
                overdue=overdue,
                due_within=timedelta(hours=due_within_hours) if due_within_hours else None,
                page_size=page_size,
                visible=lambda row: may_see(who, Desk.of_row(row)),
            )
            return await queries.page(_continued(query, after), now=clock.now())

    return router
