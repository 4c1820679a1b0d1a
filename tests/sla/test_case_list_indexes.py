"""The case list's indexes (ADR 0037): every hint names an index `cases` carries, and a filter
with no index of its own walks the order's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from contracts import CaseState, Channel, Severity
from sla.adapters.case_list import DUE_ORDER, LIST_FIELDS, LIST_INDEXES, ORDER, list_hint
from sla.adapters.mongo_cases import MongoCaseStore
from sla.ports import CaseFilter, CasePaging
from tests.stores import fresh_database, mongo_server

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
VALUES = {
    "state": CaseState.DISPATCHED,
    "severity": Severity.P1,
    "category": "billing/x",
    "channel": Channel.WEB,
    "assignee": "handler-7",
    "review": True,
}
PAGINGS = (
    CasePaging(),
    CasePaging(due_by=NOW),
    CasePaging(due_between=(NOW, NOW + timedelta(hours=2))),
)


def filters() -> list[CaseFilter]:
    """Every combination of the list's filters (none, one, several)."""
    names = list(VALUES)
    return [
        CaseFilter(**{n: VALUES[n] for n, on in zip(names, picks, strict=True) if on})
        for picks in product((False, True), repeat=len(names))
    ]


def test_every_hint_names_an_index_the_cases_collection_carries() -> None:
    """MongoDB refuses a hint naming no index; our FerretDB build would read every match."""
    for query, paging in product(filters(), PAGINGS):
        assert list_hint(query, paging) in LIST_INDEXES, (query, paging)


def test_a_hint_ends_in_the_order_the_page_is_read_in() -> None:
    for query, paging in product(filters(), PAGINGS):
        order = DUE_ORDER if paging.by_due else ORDER
        assert list_hint(query, paging)[-2:] == order


def test_each_filter_walks_its_own_index_in_either_order() -> None:
    for name in LIST_FIELDS:
        query = CaseFilter(**{name: VALUES[name]})
        for paging in PAGINGS:
            order = DUE_ORDER if paging.by_due else ORDER
            assert list_hint(query, paging) == [(name, 1), *order]


def test_an_equality_without_its_own_index_walks_the_order_or_another_equality() -> None:
    """With fewer indexes (as `bench/case_list_indexes.py` measures) the hint stays valid."""
    fewer = [ORDER, DUE_ORDER, [("state", 1), *DUE_ORDER], [("severity", 1), *ORDER]]
    due = CasePaging(due_by=NOW)
    assert list_hint(CaseFilter(severity=Severity.P1), due, fewer) == DUE_ORDER
    assert list_hint(CaseFilter(severity=Severity.P1), CasePaging(), fewer) == fewer[3]
    both = CaseFilter(severity=Severity.P1, state=CaseState.DISPATCHED)
    assert list_hint(both, due, fewer) == fewer[2]
    assert list_hint(both, CasePaging(), fewer) == fewer[3]  # the more selective first


@pytest.mark.stack
async def test_the_store_creates_every_list_index_once() -> None:
    async with fresh_database(mongo_server(), "sla_list_indexes") as db:
        await MongoCaseStore(db).ensure_indexes()
        await MongoCaseStore(db).ensure_indexes()  # a second start changes nothing
        keys = [info["key"] for info in (await db["cases"].index_information()).values()]
    assert sorted(map(str, keys)) == sorted(map(str, [[("_id", 1)], *LIST_INDEXES]))
