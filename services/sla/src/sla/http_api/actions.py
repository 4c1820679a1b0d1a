"""Acting on cases: record a staff action, and poll whether it was applied."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sla.casework.bodies import ActionApplied, ActionPending, ActionRequest
from sla.casework.desk import PREFIX, CaseDesk
from sla.http_api.plumbing import ActionId, CaseId, Staff, responses


def action_routes(desk: CaseDesk) -> APIRouter:
    """`POST /cases/{id}/actions` and `GET /cases/{id}/actions/{action_id}`."""
    router = APIRouter()

    @router.post(
        f"{PREFIX}/{{complaint_id}}/actions",
        summary="Record a staff action",
        status_code=202,
        responses=responses(
            400, 401, 403, 404, 409, 413, 422, 503, also={200: {"model": ActionApplied}}
        ),
    )
    async def act(
        complaint_id: CaseId, body: ActionRequest, who: Staff, response: Response
    ) -> ActionPending | ActionApplied:
        """Record a staff action on the case (202 and a Location to poll; 200 if applied)."""
        outcome = await desk.submit(complaint_id, body, who)
        if isinstance(outcome, ActionApplied):
            response.status_code = 200
        else:
            response.headers["Location"] = outcome.location
        return outcome

    @router.get(
        f"{PREFIX}/{{complaint_id}}/actions/{{action_id}}",
        summary="Whether an action was applied",
        responses=responses(401, 404, 409, 422, 503, also={202: {"model": ActionPending}}),
    )
    async def action_result(
        complaint_id: CaseId, action_id: ActionId, who: Staff, response: Response
    ) -> ActionPending | ActionApplied:
        """Applied (200), still pending (202), or refused by the lifecycle consumer (409)."""
        outcome = await desk.result(complaint_id, action_id, who)
        if isinstance(outcome, ActionPending):
            response.status_code = 202
        return outcome

    return router
