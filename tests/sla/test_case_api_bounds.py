"""The case API's own bounds: list requests shed beyond two at once, no redirects, no CDN."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from sla.settings import Role
from tests._builders.sla import ApiRig, Rig, classified
from tests._builders.sla_app import KEY, KEYS, memory_ports, settings


async def test_a_third_list_at_once_is_shed_with_retry_after(api: ApiRig) -> None:
    release = asyncio.Event()
    inside: list[None] = []
    both_inside = asyncio.Event()
    cases: Any = api.rig.cases
    original = cases.search

    async def slow(*args: Any, **kwargs: Any) -> Any:
        inside.append(None)
        if len(inside) == 2:
            both_inside.set()
        await release.wait()
        return await original(*args, **kwargs)

    cases.search = slow
    first = asyncio.create_task(api.get("/cases", Role.LEAD))
    second = asyncio.create_task(api.get("/cases", Role.LEAD))
    # Both lists inside the store before the third asks (a fixed sleep lost this race under load).
    async with asyncio.timeout(10):
        await both_inside.wait()
    third = await api.get("/cases", Role.LEAD)
    release.set()
    assert (third.status_code, third.headers["retry-after"]) == (503, "1")
    assert [(await t).status_code for t in (first, second)] == [200, 200]
    assert len((await api.get("/cases", Role.LEAD)).json()["items"]) == 1


async def test_a_cursor_past_the_year_9999_is_a_400_not_a_500(api: ApiRig) -> None:
    for plain in (
        "300000000000000.CP00000000-0000000000",
        "1.r.300000000000000.CP00000000-0000000000.000000000000",
    ):
        forged = base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")
        for after in (plain, forged):
            answer = await api.get(f"/cases?after={after}", Role.LEAD)
            assert (answer.status_code, answer.json()["reason"]) == (400, "invalid_cursor")


async def test_a_trailing_slash_is_not_redirected_to_the_callers_host(api: ApiRig) -> None:
    answer = await api.client.get(
        "/cases/CP20261124-7K3M9Q2XAB/", headers={"Host": "evil.example", "X-Api-Key": "x"}
    )
    assert answer.status_code == 404
    assert "location" not in answer.headers


async def test_the_docs_page_loads_nothing_from_elsewhere(api: ApiRig) -> None:
    page = await api.client.get("/cases/docs")
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    assert "http" not in page.text.replace("openapi.json", "")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "/cases/{complaint_id}/actions" in page.text


async def test_fifty_lists_at_once_through_the_service_answer_or_shed_within_a_second() -> None:
    import time

    import httpx

    from sla.app import create_app

    rig = Rig()
    await rig.classified(classified())
    ports = memory_ports(rig)
    original = rig.cases.search

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.5)  # a slow database: the guard and the list slots must shed
        return await original(*args, **kwargs)

    rig.cases.search = slow  # type: ignore[method-assign]
    app = create_app(settings(KEYS), ports)
    transport = httpx.ASGITransport(app=app, client=("10.1.1.1", 9))
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:

        async def one() -> tuple[int, float]:
            started = time.monotonic()
            answer = await client.get("/cases", headers={"X-Api-Key": KEY})
            return answer.status_code, time.monotonic() - started

        results = await asyncio.gather(*(one() for _ in range(50)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 2
    assert statuses.count(503) == 48
    assert max(seconds for _, seconds in results) < 1.5
