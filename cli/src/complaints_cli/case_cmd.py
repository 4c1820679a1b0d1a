"""`complaints case show | list | act`: the SLA service's case API from the command line.

The API and the key come from `--api` / `--api-key` or $COMPLAINTS_CASE_API / $COMPLAINTS_API_KEY
(docs/case-api.md). Answers print as readable tables, or as the API's JSON with `--json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from complaints_cli.api_options import staff_api_options
from complaints_cli.case_client import Answer, CaseClient, Json
from complaints_cli.case_render import render_answer, render_case, render_page

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
        "after": args.after,
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
    common = staff_api_options(
        "COMPLAINTS_CASE_API", DEFAULT_API, "case API", "the local SLA service"
    )
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
    listing.add_argument("--after", help="continue a list: the previous page's last line shows it")
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
