"""An async client of the project's staff APIs (the SLA's case API, the classifier's incident API).

One request policy for both: the staff key in `X-Api-Key`; a busy service (503, or 429 for a burst
of bad keys) asked again after its `Retry-After`; an answer that is not JSON a clear `not_json`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import httpx

Json = dict[str, Any]
BUSY = frozenset({429, 503})
"""Answers that mean "not now": the service sheds load or throttles (docs/case-api.md)."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of a staff API: its status and decoded JSON (an object, or a list for some
    listings); an answer that is not JSON reads as `{"reason": "not_json", "detail": …}`."""

    status: int
    body: Any
    location: str | None = None
    readable: bool = True


class ApiClient:
    """An async client of a staff API (one connection pool; `async with` opens and closes it)."""

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

    async def __aenter__(self) -> Self:
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
        location = response.headers.get("location")
        try:
            return Answer(response.status_code, response.json(), location)
        except ValueError:  # a proxy's error page, a wrong URL: say so instead of failing on it
            detail = f"the answer is not JSON: {response.text[:200]!r}"
            return Answer(
                response.status_code, {"reason": "not_json", "detail": detail}, location, False
            )

    async def send(self, method: str, url: str, **kwargs: Any) -> Answer:
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
