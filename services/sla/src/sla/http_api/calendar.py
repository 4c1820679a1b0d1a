"""Operator route: which open deadlines the service's calendar moves (ADR 0012's dry run)."""

from __future__ import annotations

from fastapi import APIRouter

from sla.casework.bodies import ApiProblemError
from sla.casework.calendar_moves import CalendarPreview, calendar_preview
from sla.casework.desk import PREFIX, CaseDesk
from sla.http_api.plumbing import Staff, responses
from sla.settings import Role


def calendar_routes(desk: CaseDesk) -> APIRouter:
    """`GET /cases/calendar-moves` (a manager's key)."""
    router = APIRouter()

    @router.get(
        f"{PREFIX}/calendar-moves",
        summary="Open deadlines the running calendar moves",
        responses=responses(401, 403),
    )
    async def calendar_moves(who: Staff) -> CalendarPreview:
        """Each open deadline whose due time moves when planned again on the calendar this
        service runs (old and new due, calendar versions): what `calendar_replanned` would do."""
        if who.role is not Role.MANAGER:
            raise ApiProblemError(403, "forbidden_for_role", "a manager's key is needed")
        return await calendar_preview(desk.cases, policy=desk.policy, calendar=desk.calendar)

    return router
