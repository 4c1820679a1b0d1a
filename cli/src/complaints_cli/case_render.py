"""The case API's answers as terminal tables (CJK characters take two columns)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from complaints_cli.case_client import Answer, Json


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
