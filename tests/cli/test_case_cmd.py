"""`complaints case`: arguments, the HTTP client, and the tables it prints (API in process)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from complaints_cli.case_client import Answer, CaseClient
from complaints_cli.case_cmd import action_body
from complaints_cli.case_render import render_answer, render_case, render_page, table, width
from complaints_cli.main import parser
from contracts import LifecycleAction
from sla.settings import Role
from tests._builders.sla import CID, KEYS, ApiRig, receipt

A = LifecycleAction


class ApplyingTransport(httpx.AsyncBaseTransport):
    """The API in process; published actions are applied before the next poll."""

    def __init__(self, api: ApiRig) -> None:
        self.api = api

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.api.published:
            await self.api.consume()
        return await self.api.transport.handle_async_request(request)


def client_for(api: ApiRig, role: Role = Role.LEAD) -> CaseClient:
    transport = ApplyingTransport(api)
    return CaseClient(base_url="http://sla", api_key=KEYS[role], transport=transport)


def test_act_arguments_make_the_body() -> None:
    args = parser().parse_args(
        [
            "case",
            "act",
            CID,
            "deadline_extended",
            "--clock",
            "resolution",
            "--extend-by-hours",
            "8",
            "--reason",
            "needs the vendor",
            "--approver",
            "mgr-01",
            "--action-id",
            "crm-1",
            "--api-key",
            "k",
        ]
    )
    assert action_body(args) == {
        "action": "deadline_extended",
        "action_id": "crm-1",
        "clock": "resolution",
        "extend_by_hours": 8.0,
        "reason": "needs the vendor",
        "approver": "mgr-01",
    }
    made_up = action_body(parser().parse_args(["case", "act", CID, "contacted"]))
    assert made_up["action_id"].startswith("cli-")
    assert set(made_up) == {"action", "action_id"}


def test_the_api_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_CASE_API", "http://sla.example:8003")
    monkeypatch.setenv("COMPLAINTS_API_KEY", "from-env-0123456789")
    args = parser().parse_args(["case", "list", "--overdue"])
    assert (args.api, args.api_key, args.overdue) == (
        "http://sla.example:8003",
        "from-env-0123456789",
        True,
    )


async def test_act_and_wait_returns_the_applied_action(api: ApiRig) -> None:
    async with client_for(api) as client:
        body = {"action": "assigned", "action_id": "c-1", "assignee": "handler-07"}
        answer = await client.act_and_wait(CID, body, every_s=0.01)
        again = await client.act(CID, body)
        refused = await client.act(CID, {"action": "closed", "action_id": "c-2"})
    assert (answer.status, answer.body["to_state"]) == (200, "dispatched")
    assert render_answer(answer).startswith("applied: assigned by lead-01 at 2026-11-24 09:30")
    assert again.status == 200
    assert refused.status == 409
    assert render_answer(refused) == (
        "refused (409): illegal_transition: `closed` is not allowed in state `dispatched` "
        "before the result (allowed in: callback_done, resolved; or as not_accepted) "
        "(state dispatched)"
    )


async def test_a_case_and_a_page_render_as_tables(api: ApiRig) -> None:
    await api.delivered(receipt())
    await api.act(A.ASSIGNED)
    async with client_for(api) as client:
        shown = await client.show(CID)
        page = await client.list({"state": "dispatched", "overdue": False, "page_size": 5})
    text = render_case(shown.body)
    lines = text.splitlines()
    assert lines[0] == f"Case {CID} · dispatched · P4 · billing/overcharge · hotline"
    assert "assigned to handler-01 (billing)" in lines[1]
    clocks = lines[lines.index("Clocks") + 1 :]
    assert clocks[0].split() == ["clock", "status", "due", "used", "outcome", "marks"]
    assert any(r.split()[:5] == ["dispatch#1", "met", "2026-11-24", "13:30", "0%"] for r in clocks)
    assert "acknowledgement" in text
    assert "assigned      lead-01   acknowledged → dispatched" in text
    listing = render_page(page.body).splitlines()
    assert listing[0].split()[:3] == ["case", "state", "sev"]
    assert listing[2].startswith(f"{CID}  dispatched  P4")
    assert listing[-1] == "1 cases · end of list"


async def test_json_output_is_the_api_answer(
    api: ApiRig, capsys: pytest.CaptureFixture[str]
) -> None:
    from complaints_cli import case_cmd

    async with client_for(api) as client:
        answer = await client.show(CID)
    args = parser().parse_args(["case", "show", CID, "--json"])
    assert case_cmd._print(answer, args, render_case) == 0
    assert json.loads(capsys.readouterr().out)["complaint_id"] == CID
    missing = Answer(404, {"reason": "unknown_case", "detail": "no classified complaint"})
    assert case_cmd._print(missing, parser().parse_args(["case", "show", CID]), render_case) == 1
    assert "refused (404): unknown_case" in capsys.readouterr().err


def test_tables_line_up_chinese_text() -> None:
    rows: list[list[Any]] = [["张三投诉", "x"], ["ab", "y"]]
    lines = table(["name", "v"], rows)
    assert width("张三投诉") == 8
    assert [width(line[:-1]) for line in lines] == [10, 10, 10, 10]  # the last column lines up
