"""An async client of the SLA service's case API (docs/case-api.md): show, list, act, poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

Json = dict[str, Any]
BUSY = frozenset({429, 503})
"""Answers that mean "not now": the service sheds load or throttles (docs/case-api.md)."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the case API."""

    status: int
    body: Json
    location: str | None = None


class CaseClient:
    """An async client of the case API (one connection pool; `async with` opens and closes it)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        busy_retry_s: float = 30.0,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        import httpx

        self._busy_retry_s = busy_retry_s
        self._gate = gate  # shared by clients that should not overrun the API's limit together
        self.busy = 0  # answers that said "not now" (503 / 429)

        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-Api-Key": api_key},
            transport=transport,
            timeout=timeout,
        )

    async def __aenter__(self) -> CaseClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    @staticmethod
    def _answer(response: httpx.Response) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = {"reason": "not_json", "detail": response.text[:200]}
        return Answer(response.status_code, body, response.headers.get("location"))

    async def _send(self, method: str, url: str, **kwargs: Any) -> Answer:
        """One request; a busy service (503, or 429 for a burst of bad keys) is asked again after
        its `Retry-After`, for at most `busy_retry_s` — as a polite client does."""
        deadline = time.monotonic() + self._busy_retry_s
        while True:
            if self._gate is None:
                response = await self._client.request(method, url, **kwargs)
            else:
                async with self._gate:
                    response = await self._client.request(method, url, **kwargs)
            if response.status_code not in BUSY or time.monotonic() > deadline:
                return self._answer(response)
            self.busy += 1
            wait = response.headers.get("retry-after", "1")
            await asyncio.sleep(min(5.0, float(wait)) if wait.isdigit() else 1.0)

    async def show(self, complaint_id: str) -> Answer:
        """`GET /cases/{id}`."""
        return await self._send("GET", f"/cases/{complaint_id}")

    async def list(self, filters: Mapping[str, str | int | float | bool | None]) -> Answer:
        """`GET /cases?…` with the filters that are set."""
        params = {
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in filters.items()
            if value is not None and value is not False
        }
        return await self._send("GET", "/cases", params=params)

    async def calendar_moves(self) -> Answer:
        """`GET /cases/calendar-moves` (a manager's key): what the running calendar moves."""
        return await self._send("GET", "/cases/calendar-moves")

    async def act(self, complaint_id: str, body: Json) -> Answer:
        """`POST /cases/{id}/actions`."""
        return await self._send("POST", f"/cases/{complaint_id}/actions", json=body)

    async def result(self, location: str) -> Answer:
        """`GET` an action's Location."""
        return await self._send("GET", location)

    async def act_and_wait(
        self, complaint_id: str, body: Json, *, limit_s: float = 30.0, every_s: float = 0.25
    ) -> Answer:
        """Post the action, then poll its Location until it is applied (or `limit_s` passes)."""
        answer = await self.act(complaint_id, body)
        if answer.status != 202 or answer.location is None:
            return answer
        deadline = time.monotonic() + limit_s
        while True:
            polled = await self.result(answer.location)
            if polled.status != 202 or time.monotonic() > deadline:
                return polled
            await asyncio.sleep(every_s)
