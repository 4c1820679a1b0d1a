"""servicekit's guards against hostile input: MongoDB documents, updates and filters that could
be read as operators or paths, and event times outside what the pipeline computes with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import CaseAction, CaseActionTaken, LifecycleAction
from servicekit.mongo import UnsafeDocumentError, check_document, check_filter, check_update
from servicekit.plausible import EARLIEST, LATEST, implausible_time

UNSAFE_KEYS = ["$where", "$", "a.b", ".", "a\x00b", "", "$set.x"]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda k: {k: 1},
        lambda k: {"a": {"b": {k: 1}}},
        lambda k: {"a": [{"b": 1}, {k: 1}]},
        lambda k: [[{"x": {k: None}}]],
    ],
    ids=["top", "nested", "in-list", "deep-list"],
)
def test_a_document_with_an_unsafe_key_anywhere_is_refused(key: str, wrap: Any) -> None:
    with pytest.raises(UnsafeDocumentError):
        check_document(wrap(key))


def test_plain_documents_and_operator_looking_values_pass() -> None:
    check_document(
        {
            "_id": "CP20261124-0000000001",
            "text": '{"$where": "sleep(1)"} $ne a.b',
            "list": ["$gt", {"k": "$in"}, 1, None, 2.5],
            "＄where": "full-width dollar is not an operator",
        }
    )


def test_updates_allow_the_code_s_operators_and_paths_only() -> None:
    check_update({"$set": {"refusals.a%2Eb": {"reason": "x"}}, "$inc": {"version": 1}})
    check_update({"$addToSet": {"ids": {"$each": ["a", "b"]}}})
    check_update({"plain": "replacement"})
    for bad in (
        {"$where": {"x": 1}},
        {"$set": {"a.$b": 1}},
        {"$set": {"a..b": 1}},
        {"$set": {"": 1}},
        {"$set": {"x": {"$gt": 1}}},
        {"$set": {"x": [{"y": {"$ne": None}}]}},
        {"$set": "not a mapping"},
    ):
        with pytest.raises(UnsafeDocumentError):
            check_update(bad)


def test_filters_are_plain_values_unless_operators_are_allowed() -> None:
    check_filter({"_id": "CP20261124-0000000001", "state": "closed"})
    check_filter({"_id": {"$in": ["a", "b"]}}, operators=frozenset({"$in"}))
    for bad in (
        {"state": {"$ne": "closed"}},
        {"category": {"$gt": ""}},
        {"assignee": ["a", "b"]},
        {"$where": "1"},
        {"_id": {"$in": [{"$gt": ""}]}},
    ):
        with pytest.raises(UnsafeDocumentError):
            check_filter(bad, operators=frozenset({"$in"}))


def _action(at: datetime) -> CaseActionTaken:
    data = CaseAction(
        complaint_id="CP20261124-0000000001",
        action=LifecycleAction.ACKNOWLEDGED,
        action_id="a-1",
        actor="h",
        occurred_at=at,
    )
    return CaseActionTaken.build(
        data=data, subject=data.complaint_id, source="/crm", time=EARLIEST, cause="a-1"
    )


@pytest.mark.parametrize(
    ("at", "path"),
    [
        (datetime(2026, 11, 24, tzinfo=UTC), None),
        (EARLIEST, None),
        (LATEST, "data.occurred_at"),
        (datetime(1, 1, 1, tzinfo=UTC), "data.occurred_at"),
        (datetime(9999, 12, 31, tzinfo=UTC), "data.occurred_at"),
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), "data.occurred_at"),
    ],
)
def test_times_outside_the_range_are_found_at_any_depth(at: datetime, path: str | None) -> None:
    assert implausible_time(_action(at)) == path
