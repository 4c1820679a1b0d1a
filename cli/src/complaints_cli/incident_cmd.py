"""`complaints incident list | show | close | merge | split`: the classifier's incident API.

The API and the key come from `--api` / `--api-key` or $COMPLAINTS_INCIDENT_API /
$COMPLAINTS_API_KEY (docs/classifier.md, *Incident control*). Answers print as short tables, or
as the API's JSON with `--json`. Requests go through the staff APIs' one client (`api_client`): a
busy classifier is asked again after its Retry-After, an answer that is not JSON is a clear error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from complaints_cli.api_client import Answer, ApiClient, Json
from complaints_cli.api_options import staff_api_options

if TYPE_CHECKING:
    import httpx

DEFAULT_API = "http://127.0.0.1:8002"


async def call(
    args: argparse.Namespace,
    method: str,
    path: str,
    body: Json | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Answer:
    """One request to the incident API with the staff key."""
    if not args.api_key:
        raise SystemExit("complaints incident: no API key (--api-key or $COMPLAINTS_API_KEY)")
    client = ApiClient(base_url=args.api, api_key=args.api_key, transport=transport, timeout=30.0)
    async with client:
        return await client.send(method, path, json=body)


def render_row(row: dict[str, Any]) -> str:
    """One incident on one line: handle, state, members, category, area, last seen."""
    area = row.get("area") or "多个地点"
    return (
        f"{row['ref']}  {row['state']:<6} {row['members']:>5}  {row['category']:<22} "
        f"{area:<10} last {row['last_seen'][:19]}"
        + (f"  → {row['merged_into']}" if row.get("merged_into") else "")
        + (f"  ({row['resolution']})" if row.get("resolution") else "")
    )


def render(body: Any) -> str:
    """A list, or one incident with its member ids."""
    if isinstance(body, list):
        return "\n".join(render_row(r) for r in body) or "no incidents"
    members = body.get("member_ids", [])
    return "\n".join([render_row(body), *(f"  {cid}" for cid in members)])


def _request(args: argparse.Namespace) -> tuple[str, str, Json | None]:
    """The method, path and body of the command."""
    command, ref = args.incident_command, getattr(args, "ref", "")
    if command == "list":
        return "GET", "/incidents" + (f"?state={args.state}" if args.state else ""), None
    if command == "show":
        return "GET", f"/incidents/{ref}", None
    if command == "close":
        return "POST", f"/incidents/{ref}/close", {"resolution": args.resolution}
    if command == "merge":
        return "POST", f"/incidents/{ref}/merge", {"into": args.into}
    return "POST", f"/incidents/{ref}/split", {"complaint_ids": args.complaint_ids}


async def go(args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Send the command's request and print the answer; 0 when the API said 200."""
    answer = await call(args, *_request(args), transport=transport)
    ok = answer.status == 200 and answer.readable
    if args.json and answer.readable:
        print(json.dumps(answer.body, ensure_ascii=False, indent=2))
    elif ok:
        print(render(answer.body))
    else:
        body = answer.body if isinstance(answer.body, dict) else {}
        print(f"{answer.status} {body.get('reason')}: {body.get('detail')}", file=sys.stderr)
    return 0 if ok else 1


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(go(args))


def add_incident_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`complaints incident …`."""
    common = staff_api_options(
        "COMPLAINTS_INCIDENT_API", DEFAULT_API, "incident API", "the local classifier"
    )
    incident = sub.add_parser("incident", help="mass incidents: list, show, close, merge, split")
    inner = incident.add_subparsers(dest="incident_command", required=True)
    listing = inner.add_parser("list", parents=[common], help="incidents, latest first")
    listing.add_argument("--state", choices=("open", "closed"))
    show = inner.add_parser("show", parents=[common], help="one incident with its members")
    close = inner.add_parser("close", parents=[common], help="close: members told it is restored")
    close.add_argument("--resolution", required=True, help="what was done (for operations)")
    merge = inner.add_parser("merge", parents=[common], help="fold into another incident")
    merge.add_argument("--into", required=True, help="the incident that stays")
    split = inner.add_parser("split", parents=[common], help="take mis-grouped complaints out")
    split.add_argument("complaint_ids", nargs="+")
    for command in (show, close, merge, split):
        command.add_argument("ref", help="the incident's handle, e.g. IN-0A1B2C3D4E5F")
    for command in (listing, show, close, merge, split):
        command.set_defaults(func=_run)
