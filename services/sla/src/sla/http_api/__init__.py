"""The case API (`/cases`): staff systems act on cases and ask about them (docs/case-api.md).

Split by sub-concept: `reads` (one case, pages of cases), `actions` (record an action, poll its
result), `admin` (the API's own pages and operator routes) and `plumbing` (keys, path
parameters, body limit, error answers). What an action is checked against and how it is
published is the desk's (`sla.casework.desk`), what a query answers is `sla.queries`'.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from servicekit.clock import Clock
from sla.casework.bodies import ActionApplied, ActionPending, ActionRequest, ApiProblemError
from sla.casework.desk import PERMITTED, PREFIX, CaseDesk, role_refusal
from sla.casework.masking import masked
from sla.http_api.actions import action_routes
from sla.http_api.admin import admin_routes, docs_html
from sla.http_api.calendar import calendar_routes
from sla.http_api.plumbing import BodyLimit, PathPrefix, answer_problems
from sla.http_api.reads import read_routes
from sla.queries import CaseQueries
from sla.settings import StaffKey

__all__ = [  # what the service and its tests take from here (the desk moved to casework)
    "PERMITTED",
    "PREFIX",
    "ActionApplied",
    "ActionPending",
    "ActionRequest",
    "ApiProblemError",
    "CaseDesk",
    "PathPrefix",
    "create_case_api",
    "docs_html",
    "masked",
    "role_refusal",
]


def create_case_api(
    *,
    desk: CaseDesk,
    queries: CaseQueries,
    staff: Mapping[str, StaffKey],
    clock: Clock,
) -> FastAPI:
    """The FastAPI app serving `/cases…` (OpenAPI at /cases/openapi.json, docs at /cases/docs)."""
    app = FastAPI(
        title="Complaint cases",
        version="1",
        summary="Act on complaint cases and ask about them (DOMAIN.md §5–§7).",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: ours is plain HTML
        redoc_url=None,
        redirect_slashes=False,  # a redirect would be built from the caller's Host header
    )
    app.state.staff_keys = staff
    app.add_middleware(BodyLimit)
    answer_problems(app)
    app.include_router(admin_routes())  # first: `/cases/docs` is not a case number
    app.include_router(calendar_routes(desk))
    app.include_router(action_routes(desk))
    app.include_router(read_routes(queries, clock))
    return app
