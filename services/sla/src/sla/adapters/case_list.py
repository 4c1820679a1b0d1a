"""The case list as one database read: equality on indexed fields, the order, the keyset and the
limit go to the server, under a time limit of its own (docs/adr/0007-bounded-hostile-traffic.md),
with a `hint` naming the index whose order the list reads (docs/adr/0019-hinted-index-walk.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pymongo
from pymongo.asynchronous.collection import AsyncCollection

from servicekit.mongo import Document, check_filter
from sla.clocks.codec import ms
from sla.clocks.sheet import ClockEntry
from sla.ports import CaseFilter, CasePaging

LIST_FIELDS = ("state", "severity", "category", "channel", "assignee")
ORDER = [("received_at", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]
LIST_INDEXES = [[(field, pymongo.ASCENDING), *ORDER] for field in LIST_FIELDS] + [ORDER]
"""One index per list filter, each ending in the list's order, and the order alone."""
HINT_ORDER = ("assignee", "category", "severity", "channel", "state")
"""Which equality's index a page walks when it has several: the most selective first."""
RUNNING_DUE = "running_due"
"""The due times of the case's running clocks, kept beside the sheet for the list's due filters:
FerretDB 1.x has no `$elemMatch` on fields of array members, only on the members themselves."""
LIST_SECONDS = 1.0
"""The longest a list read may run on the server (`maxTimeMS`), whatever budget its caller has."""
# Fields a list row never needs (the history, the log of published events).
_HEAVY = {"history": 0, "log": 0, "pauses": 0, "refusals": 0, "unpublished": 0, "submitted": 0}
_HEAVY["receipts"] = 0  # receipts older cases kept (ADR 0006 addendum, 2026-12-07)


def running_due(clocks: Iterable[ClockEntry]) -> list[datetime]:
    """The `running_due` field: due times of the running clocks (time-based upgrades aside)."""
    return sorted(ms(c.due_at) for c in clocks if c.running and c.clock is not None)


def list_filter(query: CaseFilter, paging: CasePaging) -> Document:
    """The `find` filter: equality fields at the top level (where FerretDB's local pushdown
    looks for an indexed field), due bounds and the keyset under `$and`."""
    wanted = {
        "state": query.state.value if query.state else None,
        "severity": query.severity.value if query.severity else None,
        "category": query.category,
        "channel": query.channel.value if query.channel else None,
        "assignee": query.assignee,
    }
    where: Document = {name: value for name, value in wanted.items() if value is not None}
    check_filter(where)  # equality on plain values: nothing from a request is an operator
    more: list[Document] = []
    if paging.due_by is not None:
        more.append({RUNNING_DUE: {"$elemMatch": {"$lte": ms(paging.due_by)}}})
    if paging.due_between is not None:
        start, end = (ms(t) for t in paging.due_between)
        more.append({RUNNING_DUE: {"$elemMatch": {"$gt": start, "$lte": end}}})
    if paging.after is not None:
        at, complaint_id = paging.after
        later = [{"received_at": {"$gt": at}}, {"received_at": at, "_id": {"$gt": complaint_id}}]
        more.append({"$or": later})
    if more:
        where["$and"] = more
    return where


def list_hint(query: CaseFilter) -> list[tuple[str, int]]:
    """The index a page walks in the list's order: its most selective equality's, else the
    order's own. MongoDB then walks one page of it; our local FerretDB build walks it in SQLite
    and stops at the page's end instead of reading and sorting every match (ADR 0019)."""
    wanted = {
        "state": query.state,
        "severity": query.severity,
        "category": query.category,
        "channel": query.channel,
        "assignee": query.assignee,
    }
    field = next((name for name in HINT_ORDER if wanted[name] is not None), None)
    return [(field, pymongo.ASCENDING), *ORDER] if field else list(ORDER)


async def read_page(
    cases: AsyncCollection[Document], query: CaseFilter, paging: CasePaging
) -> list[Document]:
    """One `find` with sort and limit, its reply in one batch (no cursor left open on FerretDB:
    it closes a cursor whose batch is not full), cut at `LIST_SECONDS` on the server."""
    kwargs: dict[str, Any] = {"sort": ORDER, "limit": paging.limit, "hint": list_hint(query)}
    with pymongo.timeout(LIST_SECONDS):  # the smaller of this and the request's budget left
        cursor = cases.find(
            list_filter(query, paging), _HEAVY, batch_size=paging.limit + 1, **kwargs
        )
        return await cursor.to_list(None)
