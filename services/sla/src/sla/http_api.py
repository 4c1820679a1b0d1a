"""The case API (`/cases`): staff systems act on cases and ask about them (docs/case-api.md).

Requests, keys, bounds and answers live here; what an action is checked against and how it is
published is the desk's (`sla.casework.desk`), what a query answers is `sla.queries`'.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import timedelta
from html import escape
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from contracts import (
    CaseState,
    Channel,
    Severity,
)
from servicekit.clock import Clock
from sla.casework.access import Desk, NotYourCaseError, may_see
from sla.casework.desk import (
    ACTION_ID,
    PERMITTED,
    PREFIX,
    ActionApplied,
    ActionPending,
    ActionRequest,
    ApiProblemError,
    CaseDesk,
    Problem,
    role_refusal,
)
from sla.casework.masking import masked
from sla.ports import MAX_PAGE, CaseFilter
from sla.queries import CasePage, CaseQueries, CaseQuery, CaseView, cursor_of
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
    "masked",
    "role_refusal",
]
COMPLAINT_ID = r"^CP[0-9]{8}-[0-9A-Z]{10}$"  # the contracts' ComplaintId
CATEGORY = r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*$"  # a taxonomy path, e.g. billing/overcharge
CURSOR = r"^[0-9]{1,13}\.CP[0-9]{8}-[0-9A-Z]{10}$"  # a page's next_after: <received ms>.<id>
MAX_BODY = 64 * 1024
LIST_SLOTS = 2  # list requests at once (FerretDB 1.x scans `cases` for each); more get 503
"""Largest request body: an action with every text field full is well under 40 KiB."""
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


class PathPrefix(str):
    """A route path that also matches every path below it.

    FastStream's ASGI router compares a request's path with each route path using `==`; the case
    API serves a whole tree (`/cases/{id}/actions/{action_id}`), so its route compares by prefix.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and (str.__eq__(self, other) or other.startswith(self + "/"))

    __hash__ = str.__hash__


class BodyTooLargeError(HTTPException):
    """A request body grew past `MAX_BODY` while it was read."""

    def __init__(self) -> None:
        super().__init__(413, f"the body is larger than {MAX_BODY} bytes")


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: a body over `MAX_BODY` bytes is refused (413), never read whole."""

    def __init__(self, app: ASGI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_BODY:
            error = BodyTooLargeError()
            problem = Problem(reason="oversize", detail=str(error.detail))
            await JSONResponse(problem.model_dump(mode="json"), 413)(scope, receive, send)
            return
        size = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                raise BodyTooLargeError
            return message

        await self.app(scope, limited, send)


KEY_HEADER = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A staff API key.")


def staff_member(request: Request, key: Annotated[str | None, Security(KEY_HEADER)]) -> StaffKey:
    """The staff member whose key the request presents (401 if none matches)."""
    keys: Mapping[str, StaffKey] = request.app.state.staff_keys
    found = None
    for known, who in keys.items():
        if key and hmac.compare_digest(key.encode(), known.encode()):
            found = who
    if found is None:
        raise ApiProblemError(401, "unauthorized", "missing or unknown X-Api-Key")
    return found


Staff = Annotated[StaffKey, Depends(staff_member)]
CaseId = Annotated[
    str,
    Path(pattern=COMPLAINT_ID, description="Case number.", examples=["CP20261124-0000000001"]),
]
ActionId = Annotated[str, Path(pattern=ACTION_ID)]


def _plain_query(request: Request, _: Staff) -> None:
    """Refuse list parameters the API does not know (`state[$ne]`) or that repeat: a filter
    it cannot apply must not silently widen the answer. (After the key check.)"""
    names = [name for name, _ in request.query_params.multi_items()]
    if unknown := sorted(set(names) - LIST_PARAMETERS):
        shown = ", ".join(repr(n[:40]) for n in unknown[:3])
        raise ApiProblemError(422, "invalid_request", f"unknown query parameter {shown}")
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise ApiProblemError(422, "invalid_request", f"query parameter {repeated[0]!r} repeats")


_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (400, "The body is not JSON text."),
        (401, "Missing or unknown API key."),
        (403, "The key's role may not record this action."),
        (404, "No classified complaint with this id."),
        (409, "Not allowed in the case's state (or the action id was used for another action)."),
        (413, f"The body is larger than {MAX_BODY} bytes."),
        (422, "The request is malformed or lacks what the action needs."),
        (503, "Kafka did not take the action; send it again with the same action_id."),
    )
}


def _responses(
    *statuses: int, also: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    return {**{s: _PROBLEMS[s] for s in statuses}, **(also or {})}


def docs_html(spec: Mapping[str, Any]) -> str:
    """The OpenAPI document as one self-contained HTML page: no scripts, nothing fetched."""
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            params = ", ".join(p["name"] for p in operation.get("parameters", []))
            rows.append(
                f"<h2>{escape(method.upper())} <code>{escape(path)}</code></h2>"
                f"<p><b>{escape(operation.get('summary', ''))}</b></p>"
                f"<p>{escape(operation.get('description', ''))}</p>"
                f"<p>Parameters: {escape(params or 'none')}; answers: "
                f"{escape(', '.join(operation.get('responses', {})))}</p>"
            )
    title = escape(spec.get("info", {}).get("title", "API"))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>Machine-readable: <a href='{PREFIX}/openapi.json'>"
        f"openapi.json</a></p>{''.join(rows)}</body></html>"
    )


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
    list_slots = asyncio.Semaphore(LIST_SLOTS)

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    async def docs_page() -> Response:
        return Response(
            docs_html(app.openapi()),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    @app.exception_handler(ApiProblemError)
    async def problem(_: Request, exc: ApiProblemError) -> JSONResponse:
        return JSONResponse(exc.problem.model_dump(mode="json"), status_code=exc.status)

    @app.exception_handler(BodyTooLargeError)
    async def too_large(_: Request, exc: BodyTooLargeError) -> JSONResponse:
        body = Problem(reason="oversize", detail=str(exc.detail))
        return JSONResponse(body.model_dump(mode="json"), status_code=413)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        reason = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        body = Problem(reason=reason, detail=str(exc.detail))
        return JSONResponse(body.model_dump(mode="json"), exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = [".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()[:5]]
        body = Problem(reason="invalid_request", detail="; ".join(where))
        return JSONResponse(body.model_dump(mode="json"), status_code=422)

    @app.post(
        f"{PREFIX}/{{complaint_id}}/actions",
        summary="Record a staff action",
        status_code=202,
        responses=_responses(
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

    @app.get(
        f"{PREFIX}/{{complaint_id}}/actions/{{action_id}}",
        summary="Whether an action was applied",
        responses=_responses(401, 404, 409, 422, also={202: {"model": ActionPending}}),
    )
    async def action_result(
        complaint_id: CaseId, action_id: ActionId, who: Staff, response: Response
    ) -> ActionPending | ActionApplied:
        """Applied (200), still pending (202), or refused by the lifecycle consumer (409)."""
        outcome = await desk.result(complaint_id, action_id, who)
        if isinstance(outcome, ActionPending):
            response.status_code = 202
        return outcome

    @app.get(
        f"{PREFIX}/{{complaint_id}}", summary="One case", responses=_responses(401, 403, 404, 422)
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

    @app.get(
        PREFIX,
        summary="Cases matching filters",
        responses=_responses(401, 422),
        dependencies=[Depends(_plain_query)],
    )
    async def list_cases(
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
            str | None,
            Query(pattern=CURSOR, description="The previous page's `next_after`."),
        ] = None,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> CasePage:
        """Cases matching every filter given, oldest first, one page at a time (keyset paging)."""
        if list_slots.locked():  # shed at once: a queue of lists only makes every answer late
            raise HTTPException(503, "too many list requests at once", {"Retry-After": "1"})
        async with list_slots:
            query = CaseQuery(
                fields=CaseFilter(state, severity, category, channel, assignee),
                overdue=overdue,
                due_within=timedelta(hours=due_within_hours) if due_within_hours else None,
                after=cursor_of(after) if after else None,
                page_size=page_size,
                visible=lambda row: may_see(who, Desk.of_row(row)),
            )
            return await queries.page(query, now=clock.now())

    return app
