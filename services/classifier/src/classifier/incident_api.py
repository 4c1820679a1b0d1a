"""The incident API (`/incidents`): operations list, read, close, merge and split incidents.

Staff keys as the case API's (`CLASSIFIER_API_KEYS`, same JSON); team leads and managers may
act, any key may read. Answers carry counts and complaint ids only, never personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from classifier.domain import IncidentRow
from classifier.incident_desk import IncidentDesk, IncidentProblemError, IncidentView
from classifier.settings import StaffKey
from servicekit.staff_keys import holder_of

PREFIX = "/incidents"
REF = r"^IN-[0-9A-F]{12}$"
COMPLAINT_ID = r"^CP[0-9]{8}-[0-9A-Z]{10}$"
ACTING = frozenset({"lead", "manager"})
KEY_HEADER = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A staff API key.")


class Body(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


class CloseRequest(Body):
    """Close an incident: what was done (told to operations; customers hear it is restored)."""

    resolution: str = Field(min_length=1, max_length=500)


class MergeRequest(Body):
    """Fold this incident into another one."""

    into: str = Field(pattern=REF)


class SplitRequest(Body):
    """Take mis-grouped complaints out of the incident."""

    complaint_ids: list[Annotated[str, Field(pattern=COMPLAINT_ID)]] = Field(
        min_length=1, max_length=1000
    )


class IncidentSummary(BaseModel):
    """One incident in a list."""

    ref: str
    incident_id: str
    category: str
    area: str | None
    state: Literal["open", "closed", "merged"]
    members: int
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None = None
    resolution: str | None = None
    merged_into: str | None = None


class IncidentDetail(IncidentSummary):
    """One incident with its member complaints (ids only)."""

    member_ids: list[str]
    sequence: int


def summary(row: IncidentRow) -> IncidentSummary:
    """The list row of an incident."""
    standing = row.standing
    state = "open" if standing.open else ("merged" if standing.merged_into else "closed")
    return IncidentSummary(
        ref=row.ref,
        incident_id=row.incident_id,
        category=row.category,
        area=None if row.area == "*" else row.area,
        state=state,
        members=row.count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        closed_at=standing.closed_at,
        resolution=standing.resolution,
        merged_into=standing.merged_into,
    )


def detail(view: IncidentView) -> IncidentDetail:
    """The full answer about one incident."""
    head = summary(view.row).model_dump() | {"members": len(view.member_ids)}
    return IncidentDetail(**head, member_ids=list(view.member_ids), sequence=view.sequence)


def staff_member(request: Request, key: Annotated[str | None, Security(KEY_HEADER)]) -> StaffKey:
    """The staff member whose key the request presents (401 if none matches)."""
    keys: Mapping[str, StaffKey] = request.app.state.staff_keys
    found = holder_of(keys, key)
    if found is None:
        raise IncidentProblemError(401, "unauthorized", "missing or unknown X-Api-Key")
    return found


def acting_member(who: Annotated[StaffKey, Depends(staff_member)]) -> StaffKey:
    """A team lead or manager (403 for a handler)."""
    if who.role not in ACTING:
        raise IncidentProblemError(403, "role_not_permitted", "team leads and managers act")
    return who


Reader = Annotated[StaffKey, Depends(staff_member)]
Actor = Annotated[StaffKey, Depends(acting_member)]
Ref = Annotated[str, Path(pattern=REF, description="The incident's handle, e.g. IN-0A1B2C3D4E5F.")]


class PathPrefix(str):
    """A route path that also matches every path below it (FastStream compares with `==`)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and (str.__eq__(self, other) or other.startswith(self + "/"))

    __hash__ = str.__hash__


def create_incident_api(*, desk: IncidentDesk, staff: Mapping[str, StaffKey]) -> FastAPI:
    """The FastAPI app serving `/incidents…` (OpenAPI at /incidents/openapi.json)."""
    app = FastAPI(
        title="Mass incidents",
        version="1",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.staff_keys = staff

    @app.exception_handler(IncidentProblemError)
    async def problem(_: Request, exc: IncidentProblemError) -> JSONResponse:
        return JSONResponse({"reason": exc.reason, "detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = [".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()[:5]]
        body: dict[str, Any] = {"reason": "invalid_request", "detail": "; ".join(where)}
        return JSONResponse(body, status_code=422)

    @app.get(PREFIX, summary="Incidents, latest first")
    async def list_incidents(
        _: Reader, state: Literal["open", "closed"] | None = None
    ) -> list[IncidentSummary]:
        """Every incident, or the open (or closed) ones."""
        open_only = None if state is None else state == "open"
        return [summary(row) for row in await desk.rows(open_only=open_only)]

    @app.get(f"{PREFIX}/{{ref}}", summary="One incident")
    async def show_incident(ref: Ref, _: Reader) -> IncidentDetail:
        """The incident with its member complaints."""
        return detail(await desk.show(ref))

    @app.post(f"{PREFIX}/{{ref}}/close", summary="Close an incident")
    async def close_incident(ref: Ref, body: CloseRequest, who: Actor) -> IncidentDetail:
        """Operations are told once, every member gets one restoration notice."""
        return detail(await desk.close(ref, body.resolution, by=who.staff_id))

    @app.post(f"{PREFIX}/{{ref}}/merge", summary="Merge into another incident")
    async def merge_incident(ref: Ref, body: MergeRequest, who: Actor) -> IncidentDetail:
        """The members join the other incident; this one takes no more members."""
        return detail(await desk.merge(ref, body.into, by=who.staff_id))

    @app.post(f"{PREFIX}/{{ref}}/split", summary="Take members out")
    async def split_incident(ref: Ref, body: SplitRequest, who: Actor) -> IncidentDetail:
        """Mis-grouped complaints leave the incident (and are handled on their own)."""
        return detail(await desk.split(ref, body.complaint_ids, by=who.staff_id))

    return app
