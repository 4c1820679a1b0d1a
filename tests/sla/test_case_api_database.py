"""A database that fails under a read: the case API answers 503 with Retry-After and logs one
line naming the error's class, never its text (the fake store raises what PyMongo raises)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pymongo.errors import AutoReconnect, NetworkTimeout, OperationFailure, PyMongoError

from servicekit.httpguard import HttpGuard
from servicekit.metrics import KitMetrics
from servicekit.settings import HttpGuardSettings
from sla.settings import Role
from tests._builders.sla import CID, ApiRig, Rig, case_api

PHONE = "13812345678"  # a server message may quote the filter: it must not reach the log
FAILURES: list[PyMongoError] = [
    OperationFailure(f"Executor error: filter {{phone: {PHONE}}}", code=2),
    AutoReconnect(f"connection closed while reading {PHONE}"),
    NetworkTimeout(f"timed out reading {PHONE}"),
]


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    async with case_api(rig) as opened:
        yield opened


def failing(error: PyMongoError) -> Any:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def assert_shed(answer: httpx.Response, caplog: pytest.LogCaptureFixture, error: Exception) -> None:
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["reason"] == "database_unavailable"
    lines = [r for r in caplog.records if r.levelno == logging.WARNING and "503" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].fields["error"] == type(error).__name__  # type: ignore[attr-defined]
    assert PHONE not in caplog.text
    assert PHONE not in answer.text


@pytest.mark.parametrize("error", FAILURES, ids=lambda e: type(e).__name__)
async def test_a_list_over_a_failing_database_is_a_503_with_retry_after_and_a_log_line(
    api: ApiRig, caplog: pytest.LogCaptureFixture, error: PyMongoError
) -> None:
    api.rig.cases.search = failing(error)  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        answer = await api.get("/cases", Role.LEAD)
    assert_shed(answer, caplog, error)


@pytest.mark.parametrize("error", FAILURES, ids=lambda e: type(e).__name__)
async def test_reading_one_case_or_an_action_over_a_failing_database_is_a_503(
    api: ApiRig, caplog: pytest.LogCaptureFixture, error: PyMongoError
) -> None:
    api.rig.cases.load = failing(error)  # type: ignore[method-assign]
    for path in (f"/cases/{CID}", f"/cases/{CID}/actions/a-1"):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            answer = await api.get(path, Role.LEAD)
        assert_shed(answer, caplog, error)


async def test_the_list_works_again_once_the_database_does(api: ApiRig) -> None:
    original = api.rig.cases.search
    api.rig.cases.search = failing(AutoReconnect("gone"))  # type: ignore[method-assign]
    assert (await api.get("/cases", Role.LEAD)).status_code == 503
    api.rig.cases.search = original  # type: ignore[method-assign]
    assert [c["complaint_id"] for c in (await api.get("/cases", Role.LEAD)).json()["items"]] == [
        CID
    ]


async def test_every_503_of_the_list_is_counted_by_its_reason_behind_the_guard(
    api: ApiRig,
) -> None:
    registry = CollectorRegistry()
    guard = HttpGuard(HttpGuardSettings(), KitMetrics(registry, "sla"))
    guarded = ApiRig(api.rig, httpx.ASGITransport(app=guard.wrap(api.transport.app)))  # type: ignore[attr-defined]
    original, release, entered = api.rig.cases.search, asyncio.Event(), asyncio.Semaphore(0)

    async def slow(*args: Any, **kwargs: Any) -> Any:
        entered.release()
        await release.wait()
        return await original(*args, **kwargs)

    api.rig.cases.search = slow  # type: ignore[method-assign]
    async with guarded.client:
        held = [asyncio.create_task(guarded.get("/cases", Role.LEAD)) for _ in range(2)]
        for _ in held:  # both list slots taken
            await asyncio.wait_for(entered.acquire(), 10)
        shed = await guarded.get("/cases", Role.LEAD)
        release.set()
        assert [a.status_code for a in await asyncio.gather(*held)] == [200, 200]
        api.rig.cases.search = failing(OperationFailure("bad", code=2))  # type: ignore[method-assign]
        failed = await guarded.get("/cases", Role.LEAD)
    assert (shed.status_code, failed.status_code) == (503, 503)

    def count(reason: str) -> float:
        labels = {"service": "sla", "reason": reason}
        return registry.get_sample_value("complaints_http_shed_total", labels) or 0.0

    assert (count("list_busy"), count("database"), count("app")) == (1, 1, 0)
