"""`complaints case show | list | act`: the SLA service's case API from the command line.

The API and the key come from `--api` / `--api-key` or $COMPLAINTS_CASE_API / $COMPLAINTS_API_KEY
(docs/case-api.md). Answers print as readable tables, or as the API's JSON with `--json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

DEFAULT_API = "http://127.0.0.1:8003"
ACTIONS = (
    "acknowledged",
    "assigned",
    "contacted",
    "contact_failed",
    "awaiting_customer",
    "customer_replied",
    "resolved",
    "callback_done",
    "closed",
    "reopened",
    "withdrawn",
    "deadline_extended",
)
ACTION_FIELDS = (
    "assignee",
    "department",
    "note",
    "result",
    "satisfaction",
    "verdict",
    "root_cause",
    "reason",
    "clock",
    "approver",
)
LIST_FILTERS = ("state", "severity", "category", "channel", "assignee")
Json = dict[str, Any]


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
    ) -> None:
        import httpx

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

    async def show(self, complaint_id: str) -> Answer:
        """`GET /cases/{id}`."""
        return self._answer(await self._client.get(f"/cases/{complaint_id}"))

    async def list(self, filters: Mapping[str, str | int | float | bool | None]) -> Answer:
        """`GET /cases?…` with the filters that are set."""
        params = {
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in filters.items()
            if value is not None and value is not False
        }
        return self._answer(await self._client.get("/cases", params=params))

    async def act(self, complaint_id: str, body: Json) -> Answer:
        """`POST /cases/{id}/actions`."""
        return self._answer(await self._client.post(f"/cases/{complaint_id}/actions", json=body))

    async def result(self, location: str) -> Answer:
        """`GET` an action's Location."""
        return self._answer(await self._client.get(location))

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


# --- rendering -----------------------------------------------------------------------------


def width(text: str) -> int:
    """Columns `text` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns under a header and a rule."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = (c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    return [line(headers), line(["─" * w for w in widths])] + [line(r) for r in rows]


def when(iso: str | None) -> str:
    """`2026-11-24 09:30` from the API's Shanghai ISO times."""
    return iso[:16].replace("T", " ") if iso else "-"


def _text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _clock_marks(clock: Json) -> str:
    marks = [
        name
        for name, on in (
            ("paused", clock["paused"]),
            ("overdue", clock["overdue"]),
            ("breached", clock["breached"]),
        )
        if on
    ]
    fired = ",".join(str(p) for p in clock["fired"])
    return " ".join(marks + ([f"fired {fired}"] if fired else [])) or "-"


def render_case(view: Json) -> str:
    """A case as a header, then its clocks, notifications and history as tables."""
    head = (
        f"Case {view['complaint_id']} · {view['state']} · {view['severity']} · "
        f"{_text(view.get('category'))} · {view['channel']}"
    )
    who = _text(view.get("assignee"))
    if view.get("department"):
        who += f" ({view['department']})"
    lines = [
        head,
        f"Received {when(view['received_at'])}   assigned to {who}   "
        f"flags {', '.join(view['flags']) or '-'}",
    ]
    if view.get("paused_at"):
        since = when(view["paused_at"])
        lines.append(f"Waiting for the customer since {since}: {_text(view.get('pause_reason'))}")
    if view.get("verdict") or view.get("callback_answer"):
        lines.append(
            f"Callback {_text(view.get('callback_answer'))}   verdict {_text(view.get('verdict'))}"
        )
    clocks = [
        [
            f"{c['clock']}#{c['occurrence']}",
            c["status"],
            when(c["due_at"]),
            f"{c['used_percent']}%",
            _text(c.get("outcome")),
            _clock_marks(c),
        ]
        for c in view["clocks"]
    ]
    notes = [
        [when(n["at"]), n["audience"], n["channel"], n["template"], n["status"]]
        for n in view["notifications"]
    ]
    history = [
        [
            when(h["at"]),
            h["action"],
            h["actor"],
            f"{h['from_state']} → {h['to_state']}",
            _text(h.get("reason")),
        ]
        for h in view["history"]
    ]
    lines += ["", "Clocks"]
    lines += table(["clock", "status", "due", "used", "outcome", "marks"], clocks)
    lines += ["", "Notifications"]
    lines += table(["at", "audience", "channel", "template", "status"], notes)
    lines += ["", "History"]
    lines += table(["at", "action", "actor", "move", "reason"], history)
    return "\n".join(lines)


def render_page(page: Json) -> str:
    """A page of cases as one table, with the paging underneath."""
    rows = [
        [
            r["complaint_id"],
            r["state"],
            r["severity"],
            _text(r.get("category")),
            r["channel"],
            _text(r.get("assignee")),
            f"{r['next_due']['clock']} {when(r['next_due']['due_at'])}" if r["next_due"] else "-",
            ", ".join(r["overdue"]) or "-",
        ]
        for r in page["items"]
    ]
    headers = ["case", "state", "sev", "category", "channel", "assignee", "next due", "overdue"]
    pages = max(1, -(-page["total"] // page["page_size"]))
    footer = f"page {page['page']} of {pages} · {page['total']} cases"
    return "\n".join([*table(headers, rows), footer])


def render_answer(answer: Answer) -> str:
    """What became of an action, in one line."""
    body = answer.body
    if body.get("status") == "applied":
        return (
            f"applied: {body['action']} by {body['actor']} at {when(body['at'])}, "
            f"{body['from_state']} → {body['to_state']}"
        )
    if body.get("status") == "pending":
        return f"pending: {body['action_id']} published; poll {body['location']}"
    state = f" (state {body['state']})" if body.get("state") else ""
    return f"refused ({answer.status}): {body.get('reason')}: {body.get('detail')}{state}"


# --- commands ------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> CaseClient:
    if not args.api_key:
        raise SystemExit("complaints case: no API key (--api-key or $COMPLAINTS_API_KEY)")
    return CaseClient(base_url=args.api, api_key=args.api_key)


def _print(answer: Answer, args: argparse.Namespace, render: Callable[[Json], str]) -> int:
    ok = answer.status in (200, 202)
    if args.json:
        print(json.dumps(answer.body, ensure_ascii=False, indent=2))
    elif ok and "reason" not in answer.body:
        print(render(answer.body))
    else:
        print(render_answer(answer), file=sys.stderr)
    return 0 if ok else 1


async def _show(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        return _print(await client.show(args.complaint_id), args, render_case)


async def _list(args: argparse.Namespace) -> int:
    filters: dict[str, str | int | float | bool | None] = {
        name: getattr(args, name) for name in LIST_FILTERS
    }
    filters |= {
        "overdue": args.overdue,
        "due_within_hours": args.due_within_hours,
        "page": args.page,
        "page_size": args.page_size,
    }
    async with _client(args) as client:
        return _print(await client.list(filters), args, render_page)


def action_body(args: argparse.Namespace) -> Json:
    """The POST body from `act`'s arguments (an action id is made up unless given)."""
    body: Json = {
        "action": args.action,
        "action_id": args.action_id or f"cli-{uuid.uuid4().hex[:16]}",
    }
    body |= {name: getattr(args, name) for name in ACTION_FIELDS if getattr(args, name)}
    if args.extend_by_hours is not None:
        body["extend_by_hours"] = args.extend_by_hours
    return body


async def _act(args: argparse.Namespace) -> int:
    body = action_body(args)
    async with _client(args) as client:
        if args.wait:
            answer = await client.act_and_wait(args.complaint_id, body)
        else:
            answer = await client.act(args.complaint_id, body)
    if args.json:
        print(json.dumps(answer.body, ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer), file=sys.stdout if answer.status < 300 else sys.stderr)
    return 0 if answer.status in (200, 202) else 1


Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _run(command: Command) -> Callable[[argparse.Namespace], int]:
    def sync(args: argparse.Namespace) -> int:
        return asyncio.run(command(args))

    return sync


def add_case_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`complaints case …`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api",
        default=os.environ.get("COMPLAINTS_CASE_API", DEFAULT_API),
        help="case API base URL (default: $COMPLAINTS_CASE_API or the local SLA service)",
    )
    common.add_argument(
        "--api-key",
        default=os.environ.get("COMPLAINTS_API_KEY"),
        help="staff API key (default: $COMPLAINTS_API_KEY)",
    )
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    case = sub.add_parser("case", help="act on cases and ask about them (the SLA's case API)")
    case_sub = case.add_subparsers(dest="case_command", required=True)

    show = case_sub.add_parser("show", parents=[common], help="one case: clocks, history, …")
    show.add_argument("complaint_id")
    show.set_defaults(func=_run(_show))

    listing = case_sub.add_parser("list", parents=[common], help="cases matching filters")
    for name in LIST_FILTERS:
        listing.add_argument(f"--{name}")
    listing.add_argument("--overdue", action="store_true", help="a clock is past due")
    listing.add_argument("--due-within-hours", type=float, help="a clock is due within N h")
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--page-size", type=int, default=50)
    listing.set_defaults(func=_run(_list))

    act = case_sub.add_parser("act", parents=[common], help="record a staff action")
    act.add_argument("complaint_id")
    act.add_argument("action", choices=ACTIONS)
    act.add_argument("--action-id", help="the same id twice is one action (default: a new id)")
    for name in ACTION_FIELDS:
        act.add_argument(f"--{name.replace('_', '-')}")
    act.add_argument("--extend-by-hours", type=float)
    act.add_argument("--wait", action="store_true", help="poll until the action is applied")
    act.set_defaults(func=_run(_act))
