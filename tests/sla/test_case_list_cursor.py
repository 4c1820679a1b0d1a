"""The case list's cursor and due order (ADR 0022): a page continues only the list it came from,
a bad or edited cursor is a 400, and a due list comes soonest next due first."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from contracts import Severity
from sla.list_cursor import BadCursorError, cursor_of, cursor_text, list_scope
from sla.settings import Role
from tests._builders.sla import CID, RECEIVED, ApiRig, Rig, case_api, classified

OTHER = "CP20261124-0000000002"
THIRD = "CP20261124-0000000003"
KEY = (RECEIVED, CID)


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    async with case_api(rig) as opened:
        await rig.classified(
            classified(cid=OTHER, severity=Severity.P1), classified(cid=THIRD, severity=Severity.P2)
        )
        yield opened


async def listing(api: ApiRig, query: str = "") -> dict[str, object]:
    answer = await api.get(f"/cases{query}", Role.LEAD)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def ids(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [row["complaint_id"] for row in items]


def test_a_cursor_reads_back_only_for_its_own_list() -> None:
    scope = list_scope("state=classified")
    text = cursor_text(KEY, by_due=False, scope=scope)
    assert cursor_of(text, by_due=False, scope=scope) == KEY
    assert str(int(RECEIVED.timestamp() * 1000)) not in text  # opaque, not the key itself
    for by_due, other_scope in ((True, scope), (False, list_scope("state=closed"))):
        with pytest.raises(BadCursorError, match="another list"):
            cursor_of(text, by_due=by_due, scope=other_scope)
    plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    for edited in (
        plain.replace(".r.", ".x."),
        plain.replace(CID, "CP2026112-0000000001"),
        plain.replace(".1", ".99999999999999", 1),
        plain + "0",
        "2" + plain[1:],
    ):
        forged = base64.urlsafe_b64encode(edited.encode()).decode().rstrip("=")
        with pytest.raises(BadCursorError):
            cursor_of(forged, by_due=False, scope=scope)
    for junk in ("", "1.x", "a" * 200, "%00", "////", "éé"):
        with pytest.raises(BadCursorError):
            cursor_of(junk, by_due=False, scope=scope)


async def test_a_bad_or_foreign_cursor_is_a_400(api: ApiRig) -> None:
    first = await listing(api, "?page_size=1")
    cursor = first["next_after"]
    assert isinstance(cursor, str)
    assert ids(await listing(api, f"?page_size=1&after={cursor}")) == [OTHER]
    for query in (
        "?after=1.x",
        f"?after={cursor[:-2]}",
        f"?after={cursor}&severity=P1",  # another list's
        f"?after={cursor}&overdue=true",  # another order's
        f"?after={'A' * 500}",
    ):
        answer = await api.get(f"/cases{query}", Role.LEAD)
        assert answer.status_code == 400, query
        assert answer.json()["reason"] == "invalid_cursor"


async def test_a_due_list_comes_soonest_due_first_and_pages_by_its_cursor(api: ApiRig) -> None:
    everything = await listing(api, "?due_within_hours=2000")
    items = everything["items"]
    assert isinstance(items, list)
    dues = [(row["next_due"]["due_at"], row["complaint_id"]) for row in items]
    assert dues == sorted(dues)
    assert ids(everything) != [CID, OTHER, THIRD]  # not the receipt order: P1 is due first
    walked, after = [], ""
    while True:
        page = await listing(api, f"?due_within_hours=2000&page_size=1{after}")
        walked += ids(page)
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert walked == ids(everything)
    api.rig.clock.set(RECEIVED + timedelta(days=400))  # every clock past due
    assert ids(await listing(api, "?overdue=true")) == ids(everything)
    assert ids(await listing(api, "?overdue=true&due_within_hours=1")) == ids(everything)
    assert ids(await listing(api, "?due_within_hours=1")) == []
