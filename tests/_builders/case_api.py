"""The case API as an e2e test's staff use it: keys per role, polling, clock look-ups."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

ORIGIN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 24 November 2026, 10:00 Shanghai
ROLES = ("handler", "lead", "manager", "auditor")
KEYS = {role: secrets.token_urlsafe(24) for role in ROLES}
Json = dict[str, Any]


def staff_table(departments: dict[str, str | None]) -> dict[str, Json]:
    """SLA_API_KEYS for the roles named in `departments` (a key each), each seeing its
    department's cases, None for all (issue 20)."""
    return {
        KEYS[role]: {"staff_id": f"{role}-e2e", "role": role, "department": department}
        for role, department in departments.items()
    }


# The manager sees every department's cases.
STAFF = staff_table({"handler": "billing", "lead": "billing", "manager": None})


async def _unshed(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Send until the case API's guard stops shedding it (503), each time after its Retry-After;
    at most twenty tries."""
    for _ in range(20):
        answer = await send()
        if answer.status_code != 503:
            break
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
    return answer


class Staff:
    """The case API as the three roles use it."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10.0)

    async def get(self, path: str, role: str = "handler", **params: Any) -> httpx.Response:
        """GET; a read the guard shed (503, a loaded host) is asked again after its Retry-After."""
        headers = {"X-Api-Key": KEYS[role]}
        return await _unshed(lambda: self.http.get(path, params=params, headers=headers))

    async def post_to(self, path: str, body: Json, role: str) -> httpx.Response:
        """POST; a request the guard shed (503, a loaded host) is sent again, same body, after
        its Retry-After, as the CLI's client does (an action id makes a resent action one)."""
        headers = {"X-Api-Key": KEYS[role]}
        return await _unshed(lambda: self.http.post(path, json=body, headers=headers))

    async def post(self, cid: str, body: Json, role: str) -> httpx.Response:
        """POST an action on the case (resent after a shed, as `post_to`)."""
        return await self.post_to(f"/cases/{cid}/actions", body, role)

    async def act(self, cid: str, role: str, action: str, **fields: Any) -> Json:
        """Post an action and poll its Location until the lifecycle consumer applied it."""
        answer = await self.post(
            cid, {"action": action, "action_id": f"e2e-{action}", **fields}, role
        )
        if answer.status_code == 200:  # a resend after a shed POST: already applied
            applied: Json = answer.json()
            return applied
        assert answer.status_code == 202, answer.text
        location = answer.headers["location"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            polled = await self.get(location, role)
            if polled.status_code == 200:
                body: Json = polled.json()
                assert body["actor"] == f"{role}-e2e"
                return body
            assert polled.status_code == 202, polled.text
            await asyncio.sleep(0.2)
        raise AssertionError(f"{action} on {cid} not applied within 30 s")

    async def case(self, cid: str) -> Json:
        answer = await self.get(f"/cases/{cid}")
        assert answer.status_code == 200, answer.text
        view: Json = answer.json()
        return view


async def until(
    check: Callable[[], Awaitable[Json | None]], what: str, limit_s: float = 180
) -> Json:
    """Poll `check` until it returns something; the limit is generous, as a shared CI box can be
    slow to start four services (it only matters when the check never comes true)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if (found := await check()) is not None:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def clock(view: Json, name: str, occurrence: int = 1) -> Json:
    found: list[Json] = [
        c for c in view["clocks"] if c["clock"] == name and c["occurrence"] == occurrence
    ]
    assert len(found) == 1, (name, found)
    return found[0]


def due(view: Json, name: str) -> datetime:
    return datetime.fromisoformat(clock(view, name)["due_at"])
