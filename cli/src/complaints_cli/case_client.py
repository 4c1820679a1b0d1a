"""An async client of the SLA service's case API (docs/case-api.md): show, list, act, poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from complaints_cli.api_client import BUSY, Answer, ApiClient, Json

__all__ = ["BUSY", "Answer", "CaseClient", "Json"]


class CaseClient(ApiClient):
    """The case API's requests, on the staff APIs' one request policy (`api_client`)."""

    async def show(self, complaint_id: str) -> Answer:
        """`GET /cases/{id}`."""
        return await self.send("GET", f"/cases/{complaint_id}")

    async def list(self, filters: Mapping[str, str | int | float | bool | None]) -> Answer:
        """`GET /cases?…` with the filters that are set."""
        params = {
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in filters.items()
            if value is not None and value is not False
        }
        return await self.send("GET", "/cases", params=params)

    async def calendar_moves(self) -> Answer:
        """`GET /cases/calendar-moves` (a manager's key): what the running calendar moves."""
        return await self.send("GET", "/cases/calendar-moves")

    async def act(self, complaint_id: str, body: Json) -> Answer:
        """`POST /cases/{id}/actions`."""
        return await self.send("POST", f"/cases/{complaint_id}/actions", json=body)

    async def result(self, location: str) -> Answer:
        """`GET` an action's Location."""
        return await self.send("GET", location)

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
