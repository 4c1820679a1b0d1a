"""What every case API route shares: the key check, path parameters, body limit, error answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException

from servicekit.httpguard import database_fields, name_shed
from servicekit.staff_keys import holder_of
from sla.casework.bodies import ACTION_ID, ApiProblemError, Problem
from sla.settings import StaffKey

log = logging.getLogger(__name__)
COMPLAINT_ID = r"^CP[0-9]{8}-[0-9A-Z]{10}$"  # the contracts' ComplaintId
MAX_BODY = 64 * 1024
"""Largest request body: an action with every text field full is well under 40 KiB."""
RETRY_AFTER = "1"
"""Seconds a client waits before asking again after a 503 of this API's own."""


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
    found = holder_of(keys, key)
    if found is None:
        raise ApiProblemError(401, "unauthorized", "missing or unknown X-Api-Key")
    return found


Staff = Annotated[StaffKey, Depends(staff_member)]
CaseId = Annotated[
    str,
    Path(pattern=COMPLAINT_ID, description="Case number.", examples=["CP20261124-0000000001"]),
]
ActionId = Annotated[str, Path(pattern=ACTION_ID)]

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
        (
            503,
            "Busy, the database did not answer, or Kafka did not take the action: ask again"
            " after Retry-After (an action with the same action_id).",
        ),
    )
}


def responses(
    *statuses: int, also: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a route: the shared problems `statuses`, plus `also`."""
    return {**{s: _PROBLEMS[s] for s in statuses}, **(also or {})}


def answer_problems(app: FastAPI) -> None:
    """Install the handlers that turn every refusal into a `Problem` body."""

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

    @app.exception_handler(PyMongoError)
    async def database_failed(request: Request, exc: PyMongoError) -> JSONResponse:
        # Without this, Starlette answers 500 before the service's guard sees the error.
        slow = bool(getattr(exc, "timeout", False))
        name_shed(request.scope, "timeout" if slow else "database")  # counted as the guard's
        fields = database_fields(request.scope, exc)
        log.warning(
            "case API answered 503: database %s",
            "timeout" if slow else "error",
            extra={"fields": fields},
        )
        detail = "the database did not answer in time" if slow else "the database failed"
        body = Problem(reason="database_unavailable", detail=detail + "; ask again shortly")
        return JSONResponse(body.model_dump(mode="json"), 503, {"Retry-After": RETRY_AFTER})
