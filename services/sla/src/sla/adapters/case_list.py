"""The case list as one database read: equality on indexed fields, the order, the keyset and the
limit go to the server, under a time limit of its own (docs/adr/0007-bounded-hostile-traffic.md),
with a `hint` naming the index whose order the list reads (docs/adr/0019-hinted-index-walk.md);
a due list walks `next_due` from its bound, and a keyset starts the walk where the last page
ended (docs/adr/0022-due-lists-and-keyset-ranges.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo.asynchronous.collection import AsyncCollection

from servicekit.mongo import Document, check_filter
from sla.clocks.codec import ms
from sla.clocks.sheet import ClockEntry
from sla.ports import CaseFilter, CasePaging

LIST_FIELDS = ("state", "severity", "category", "channel", "assignee", "review")
REVIEW, REVIEW_NEEDED = "review", "needed"
"""Set on a case whose complainant was flagged for human review (003): the review queue."""
NEXT_DUE = "next_due"
"""The earliest due time of the case's running clocks (null when none runs), kept by every write
of the sheet: a due list is a range of it, walked in its order."""
ORDER = [("received_at", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]
DUE_ORDER = [(NEXT_DUE, pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]
Keys = list[tuple[str, int]]
LIST_INDEXES: list[Keys] = [[(f, 1), *order] for order in (ORDER, DUE_ORDER) for f in LIST_FIELDS]
LIST_INDEXES += [ORDER, DUE_ORDER]
"""One index per list filter and order, each ending in the list's order, and each order alone:
at a million cases each is what keeps some list page interactive (ADR 0037 measured the smaller
sets with `bench/case_list_indexes.py`: without its own index a filter's page is cut at 1 s)."""
HINT_ORDER = ("assignee", "review", "category", "severity", "channel", "state")
"""Which equality's index a page walks when it has several: the most selective first."""
LIST_SECONDS = 1.0
"""The longest a list read may run on the server (`maxTimeMS`), whatever budget its caller has."""
# Fields a list row never needs (the history, the log of published events).
_HEAVY = {"history": 0, "log": 0, "pauses": 0, "refusals": 0, "unpublished": 0, "submitted": 0}
_HEAVY["receipts"] = 0  # receipts older cases kept (ADR 0006 addendum, 2026-12-07)


def next_due(clocks: Iterable[ClockEntry]) -> datetime | None:
    """The `next_due` field: the earliest due of the running clocks (time-based upgrades aside)."""
    return min((ms(c.due_at) for c in clocks if c.running and c.clock is not None), default=None)


def list_order(paging: CasePaging) -> list[tuple[str, int]]:
    """The order a page is read in: soonest due first for a due list, else oldest receipt."""
    return list(DUE_ORDER) if paging.by_due else list(ORDER)


def list_filter(query: CaseFilter, paging: CasePaging) -> Document:
    """The `find` filter: equality fields at the top level (where FerretDB's local pushdown
    looks for an indexed field), due bounds and the keyset under `$and`."""
    wanted = {
        "state": query.state.value if query.state else None,
        "severity": query.severity.value if query.severity else None,
        "category": query.category,
        "channel": query.channel.value if query.channel else None,
        "assignee": query.assignee,
        REVIEW: REVIEW_NEEDED if query.review else None,
    }
    where: Document = {name: value for name, value in wanted.items() if value is not None}
    check_filter(where)  # equality on plain values: nothing from a request is an operator
    key = list_order(paging)[0][0]
    bounds: Document = {}  # on the order's first key: where the walk starts and stops
    if paging.due_by is not None:
        bounds["$lte"] = ms(paging.due_by)
    if paging.due_between is not None:
        start, end = (ms(t) for t in paging.due_between)
        bounds["$gt"], bounds["$lte"] = start, min(end, bounds.get("$lte", end))
    if paging.after is not None:
        at, complaint_id = paging.after
        bounds["$gte"] = at
        later = [{key: {"$gt": at}}, {key: at, "_id": {"$gt": complaint_id}}]
        where["$and"] = [{"$or": later}]
    if bounds:
        where[key] = bounds
    return where


def list_hint(
    query: CaseFilter, paging: CasePaging, indexes: Sequence[Keys] = LIST_INDEXES
) -> Keys:
    """The index a page walks in the list's order: its most selective equality's among
    `indexes`, else the order's own. MongoDB then walks one page of it; our local FerretDB build
    walks it in SQLite from the keyset to the due bound and stops at the page's end (ADR 0019,
    ADR 0022); an equality with no index of its own is applied on the walk (ADR 0037)."""
    wanted = {
        "state": query.state,
        "severity": query.severity,
        "category": query.category,
        "channel": query.channel,
        "assignee": query.assignee,
        REVIEW: True if query.review else None,
    }
    order = list_order(paging)
    for name in HINT_ORDER:
        keys = [(name, pymongo.ASCENDING), *order]
        if wanted[name] is not None and keys in indexes:
            return keys
    return order


async def read_page(
    cases: AsyncCollection[Document],
    query: CaseFilter,
    paging: CasePaging,
    indexes: Sequence[Keys] = LIST_INDEXES,
) -> list[Document]:
    """One `find` with sort and limit, its reply in one batch (no cursor left open on FerretDB:
    it closes a cursor whose batch is not full), cut at `LIST_SECONDS` on the server; the hint
    one of `indexes` (what the collection carries)."""
    hint = list_hint(query, paging, indexes)
    kwargs: dict[str, Any] = {"sort": list_order(paging), "limit": paging.limit, "hint": hint}
    with pymongo.timeout(LIST_SECONDS):  # the smaller of this and the request's budget left
        cursor = cases.find(
            list_filter(query, paging), _HEAVY, batch_size=paging.limit + 1, **kwargs
        )
        return await cursor.to_list(None)
