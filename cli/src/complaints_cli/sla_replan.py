"""`complaints sla replan --calendar DIR`: open deadlines planned again on a changed calendar.

The SLA service does the work (ADR 0012); this command only asks, through the case API with a
manager's key. First it checks that the service runs the calendar in DIR (every override there,
at its version: deploy first), then prints the moves the service computes on it (`GET
/cases/calendar-moves`: old and new due, calendar versions). `--apply` then sends each case with a
moving deadline a `calendar_replanned` action: the service re-plans it in one compare-and-set (the
case log keeps each moved clock's old and new due and versions), publishes, and moves its index.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

LOCAL = "%Y-%m-%d %H:%M"


class ReplanError(ValueError):
    """A one-line reason the re-plan could not run."""


@dataclass(frozen=True)
class ReplanOptions:
    """What `complaints sla replan` was asked."""

    calendar_dir: Path
    apply: bool = False
    api: str = "http://127.0.0.1:8003"
    api_key: str | None = None


def override_labels(calendar_dir: Path) -> list[str]:
    """`cn-<year> override v<version>` for each override in the directory, as the service's
    calendar version names them."""
    if not calendar_dir.is_dir():
        raise ReplanError(f"no calendar directory {str(calendar_dir)!r}")
    labels = []
    for path in sorted(calendar_dir.glob("cn-*.y*ml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ReplanError(f"{path.name}: not readable YAML ({type(exc).__name__})") from exc
        if not isinstance(data, dict) or "year" not in data or "version" not in data:
            raise ReplanError(f"{path.name}: an override names its `year` and `version`")
        labels.append(f"cn-{data['year']} override v{data['version']}")
    return labels


def undeployed(labels: list[str], running: str) -> list[str]:
    """The overrides of DIR the service's calendar version does not name (not deployed)."""
    named = {part.removesuffix(" (provisional)") for part in running.split(" + ")}
    return [label for label in labels if label not in named]


def render(preview: dict[str, Any]) -> str:
    """One line per moved deadline, and the versions."""
    moves: list[dict[str, Any]] = preview["moves"]

    def local(text: str) -> str:
        return f"{datetime.fromisoformat(text):{LOCAL}}"

    lines = [
        f"{m['complaint_id']}  {m['key']:<22} {local(m['due_at'])} → {local(m['new_due_at'])}"
        f"{'  (provisional)' if m['provisional'] else ''}"
        for m in moves
    ]
    lines.append(f"{len(moves)} open deadlines of {preview['cases']} cases move")
    lines += [f"  from calendar {v}" for v in sorted({m["calendar_version"] for m in moves})]
    lines.append(f"  to calendar   {preview['calendar_version']}")
    return "\n".join(lines)


async def replan(options: ReplanOptions) -> int:
    """Print the moves (and apply them with --apply); 0 when every case asked was re-planned."""
    from complaints_cli.case_client import CaseClient

    if not options.api_key:
        raise ReplanError("a manager's API key is needed (--api-key or $COMPLAINTS_API_KEY)")
    labels = override_labels(options.calendar_dir)
    async with CaseClient(base_url=options.api, api_key=options.api_key) as client:
        answer = await client.calendar_moves()
        if answer.status != 200:
            raise ReplanError(f"the case API answered {answer.status}: {answer.body.get('detail')}")
        preview = answer.body
        if missing := undeployed(labels, preview["calendar_version"]):
            raise ReplanError(
                f"the SLA service runs calendar {preview['calendar_version']!r}, not "
                f"{', '.join(missing)}: deploy the calendar first"
            )
        print(render(preview))
        cases = list(dict.fromkeys(m["complaint_id"] for m in preview["moves"]))
        if not options.apply:
            if cases:
                print("dry run: nothing changed (--apply re-plans them)")
            return 0
        version = preview["calendar_version"]
        action_id = "replan-" + hashlib.sha256(version.encode()).hexdigest()[:16]
        done = 0
        for cid in cases:
            body = {"action": "calendar_replanned", "action_id": action_id}
            result = await client.act_and_wait(cid, body | {"calendar_version": version})
            if result.status == 200:
                done += 1
            else:
                reason = result.body.get("reason", result.status)
                sys.stderr.write(f"{cid}: not re-planned ({reason}: {result.body.get('detail')})\n")
    print(f"re-planned {done} of {len(cases)} cases")
    return 0 if done == len(cases) else 1


def replan_command(options: ReplanOptions) -> int:
    """Run the re-plan; connection failures are a one-line error."""
    import httpx

    try:
        return asyncio.run(replan(options))
    except httpx.HTTPError as exc:
        raise ReplanError(f"the case API at {options.api} is not reachable ({exc})") from exc
