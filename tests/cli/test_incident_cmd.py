"""`complaints incident …` on the staff APIs' one client: the classifier's real incident API in
process, a busy API asked again after its Retry-After, and answers that are not JSON."""

from __future__ import annotations

import argparse

import httpx
import pytest

from complaints_cli import incident_cmd
from complaints_cli.main import parser
from tests._builders.classifier import (
    INCIDENT_HANDLER,
    INCIDENT_LEAD,
    Rig,
    incident_api,
    outage,
    telecom_pack,
)


def args_of(*argv: str, key: str = INCIDENT_LEAD) -> argparse.Namespace:
    """The parsed command line of `complaints incident …` with a staff key."""
    return parser().parse_args(["incident", *argv, "--api", "http://classifier", "--api-key", key])


async def test_list_show_and_close_through_the_classifiers_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rig = Rig(telecom_pack())
    events = [outage(i) for i in range(24)]
    for start in range(0, 24, 8):
        await rig.take(*events[start : start + 8])
    transport = httpx.ASGITransport(app=incident_api(rig))
    assert await incident_cmd.go(args_of("list"), transport=transport) == 0
    [line] = capsys.readouterr().out.splitlines()
    ref = line.split()[0]
    assert ref.startswith("IN-")
    assert "open" in line
    assert "network/no_signal" in line
    assert await incident_cmd.go(args_of("show", ref), transport=transport) == 0
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) == 1 + 24  # the incident, then one line per member
    refused = args_of("close", ref, "--resolution", "基站电源已恢复", key=INCIDENT_HANDLER)
    assert await incident_cmd.go(refused, transport=transport) == 1
    assert capsys.readouterr().err.startswith("403 ")
    closing = args_of("close", ref, "--resolution", "基站电源已恢复", "--json")
    assert await incident_cmd.go(closing, transport=transport) == 0
    assert '"state": "closed"' in capsys.readouterr().out


async def test_a_busy_api_is_asked_again_after_its_retry_after(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = iter([503, 503, 200])
    seen: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-api-key"])
        status = next(answers)
        if status == 503:
            return httpx.Response(503, json={"reason": "busy"}, headers={"retry-after": "0"})
        return httpx.Response(200, json=[])

    code = await incident_cmd.go(args_of("list"), transport=httpx.MockTransport(serve))
    assert code == 0
    assert seen == [INCIDENT_LEAD] * 3
    assert capsys.readouterr().out.strip() == "no incidents"


@pytest.mark.parametrize(("status", "json_flag"), [(502, False), (200, False), (200, True)])
async def test_an_answer_that_is_not_json_is_a_clear_error(
    status: int, json_flag: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="<html>Bad Gateway</html>")

    argv = ("list", "--json") if json_flag else ("list",)
    assert await incident_cmd.go(args_of(*argv), transport=httpx.MockTransport(serve)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{status} not_json: the answer is not JSON: ")
    assert "Bad Gateway" in captured.err


def test_without_a_key_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTS_API_KEY", raising=False)
    args = parser().parse_args(["incident", "list", "--api", "http://classifier"])
    with pytest.raises(SystemExit, match="no API key"):
        args.func(args)
