"""The case API client: a service that sheds load is asked again after its Retry-After."""

from __future__ import annotations

import httpx

from complaints_cli.case_client import CaseClient


async def test_a_shed_request_is_sent_again_after_retry_after() -> None:
    answers = iter([503, 429, 200])
    seen: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status = next(answers)
        headers = {"retry-after": "0"} if status != 200 else {}
        return httpx.Response(status, json={"items": [], "total": 0}, headers=headers)

    async with CaseClient(
        base_url="http://sla", api_key="k" * 16, transport=httpx.MockTransport(serve)
    ) as client:
        answer = await client.list({"state": "classified"})
    assert answer.status == 200
    assert seen == ["/cases", "/cases", "/cases"]


async def test_a_service_busy_for_longer_than_the_bound_is_answered_as_it_is() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"reason": "busy"}, headers={"retry-after": "0"})

    async with CaseClient(
        base_url="http://sla",
        api_key="k" * 16,
        transport=httpx.MockTransport(serve),
        busy_retry_s=0.05,
    ) as client:
        answer = await client.show("CP20261124-0000000001")
    assert (answer.status, answer.body["reason"]) == (503, "busy")
