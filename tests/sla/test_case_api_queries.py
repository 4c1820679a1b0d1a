"""The case API's queries: one case with clocks, receipts and history; filtered, paged lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from contracts import (
    Audience,
    DeliveryStatus,
    LifecycleAction,
    NotificationReceipt,
    NotificationSent,
    Severity,
)
from sla.settings import Role
from tests._builders.sla import (
    CID,
    RECEIVED,
    ApiRig,
    Rig,
    case_api,
    classified,
    receipt,
)

A = LifecycleAction
OTHER = "CP20261124-0000000002"
THIRD = "CP20261124-0000000003"


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over a classified P4 complaint."""
    async with case_api(rig) as opened:
        yield opened


def at(hours: float) -> datetime:
    """`hours` after receipt (Tuesday 09:30 in Shanghai)."""
    return RECEIVED + timedelta(hours=hours)


def staff_receipt(status: DeliveryStatus, minutes: int) -> NotificationSent:
    """A receipt of the handler's assignment message, `minutes` after receipt."""
    key = f"{CID}:assigned:-:a2:handler"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=CID,
        audience=Audience.HANDLER,
        channel="wecom",
        template="staff_assigned",
        status=status,
        attempts=1,
        recipient="handler-01",
    )
    time = RECEIVED + timedelta(minutes=minutes)
    return NotificationSent.build(
        data=data, subject=CID, source="/complaints/notifier", time=time, cause=f"{key}{status}"
    )


def clock(view: dict[str, object], name: str) -> dict[str, object]:
    [found] = [c for c in view["clocks"] if c["clock"] == name]  # type: ignore[attr-defined]
    assert isinstance(found, dict)
    return found


async def show(api: ApiRig, cid: str = CID) -> dict[str, object]:
    answer = await api.get(f"/cases/{cid}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def listing(api: ApiRig, query: str = "", role: Role = Role.MANAGER) -> dict[str, object]:
    """A list as `role` (a manager, who sees every case, unless the test is about scope)."""
    answer = await api.get(f"/cases{query}", role)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def ids(page: dict[str, object]) -> list[str]:
    return [row["complaint_id"] for row in page["items"]]  # type: ignore[attr-defined]


async def test_a_case_shows_state_assignment_clocks_receipts_and_history(api: ApiRig) -> None:
    api.rig.clock.set(at(0.2))
    await api.delivered(receipt())
    api.rig.clock.set(at(0.5))
    await api.act(A.ASSIGNED)
    await api.delivered(staff_receipt(DeliveryStatus.DELIVERED, 31))
    api.rig.clock.set(at(5))  # 14:30: first contact (due 13:30) is late
    await api.act(A.CONTACTED)

    view = await show(api)
    assert view["state"] == "in_progress"
    assert (view["assignee"], view["department"]) == ("handler-01", "billing")
    assert (view["severity"], view["channel"]) == ("P4", "hotline")
    assert view["received_at"] == "2026-11-24T09:30:00+08:00"
    history = view["history"]
    assert isinstance(history, list)
    assert [(h["action"], h["actor"], h["to_state"]) for h in history] == [
        ("acknowledged", "notifier", "acknowledged"),
        ("assigned", "lead-01", "dispatched"),
        ("contacted", "handler-01", "in_progress"),
    ]
    assert history[1]["at"] == "2026-11-24T10:00:00+08:00"
    assert (clock(view, "acknowledge")["status"], clock(view, "acknowledge")["outcome"]) == (
        "met",
        "on_time",
    )
    assert clock(view, "dispatch")["outcome"] == "on_time"
    late = clock(view, "first_contact")
    # 001: 2 working hours after the dispatch at 10:00.
    assert (late["outcome"], late["due_at_local"]) == ("late", "2026-11-24 12:00")
    assert late["due_at"] == "2026-11-24T12:00:00+08:00"
    resolution = clock(view, "resolution")
    assert resolution["status"] == "running"
    assert (resolution["paused"], resolution["overdue"], resolution["breached"]) == (
        False,
        False,
        False,
    )
    # 5 working hours of 35.5 (8.5 on the day of receipt, then three working days).
    assert resolution["used_percent"] == round(100 * 5 / 35.5)
    assert [(n["template"], n["audience"], n["status"]) for n in view["notifications"]] == [  # type: ignore[attr-defined]
        ("acknowledgement", "customer", "delivered"),
        ("staff_assigned", "handler", "delivered"),
    ]


async def test_a_notification_shows_once_with_the_notifier_s_latest_status(
    api: ApiRig,
) -> None:
    await api.delivered(staff_receipt(DeliveryStatus.DEFERRED, 5))
    await api.delivered(staff_receipt(DeliveryStatus.DELIVERED, 9))
    await api.delivered(staff_receipt(DeliveryStatus.DELIVERED, 9))
    notifications = (await show(api))["notifications"]
    assert isinstance(notifications, list)
    [kept] = notifications
    assert (kept["status"], kept["at"]) == ("delivered", "2026-11-24T09:39:00+08:00")
    assert "recipient" not in kept


async def test_a_paused_clock_stands_still_and_shows_paused(api: ApiRig) -> None:
    api.rig.clock.set(at(0.5))
    await api.act(A.ASSIGNED)
    await api.act(A.CONTACTED)
    api.rig.clock.set(at(2.5))  # 12:00
    await api.act(A.AWAITING_CUSTOMER)
    paused = clock(await show(api), "resolution")
    api.rig.clock.set(at(26.5))  # the next morning, 11:00
    later = await show(api)
    still = clock(later, "resolution")
    assert later["pause_reason"] == "waiting for the customer's bill"
    assert later["paused_at"] == "2026-11-24T12:00:00+08:00"
    assert paused["paused"] is still["paused"] is True
    assert paused["used_percent"] == still["used_percent"] == round(100 * 2.5 / 35.5)


async def test_overdue_and_due_soon_filters_and_breach_flags(api: ApiRig) -> None:
    await api.rig.classified(classified(cid=OTHER))
    api.rig.clock.set(at(0.5))
    await api.act(A.ACKNOWLEDGED)
    for action in (A.ACKNOWLEDGED, A.ASSIGNED, A.CONTACTED):
        await api.act(action, cid=OTHER)
    api.rig.clock.set(at(3.5))  # 13:00: dispatch of CID due 13:30 (no contact clock yet)
    assert ids(await listing(api, "?due_within_hours=1")) == [CID]
    assert ids(await listing(api, "?overdue=true")) == []
    api.rig.clock.set(at(4.5))  # 14:00
    scheduler = api.rig.scheduler("a")
    while await scheduler.run_once():  # one threshold per deadline and round
        pass
    overdue = await listing(api, "?overdue=true")
    assert ids(overdue) == [CID]
    items = overdue["items"]
    assert isinstance(items, list)
    [row] = items
    assert row["overdue"] == ["dispatch"]
    assert row["next_due"]["due_at_local"] == "2026-11-24 13:30"  # the earliest, even if past
    dispatch = clock(await show(api), "dispatch")
    assert (dispatch["overdue"], dispatch["breached"], dispatch["fired"]) == (
        True,
        True,
        [50, 80, 100],
    )


async def test_lists_filter_by_every_field_and_page(api: ApiRig) -> None:
    await api.rig.classified(
        classified(cid=OTHER, severity=Severity.P2), classified(cid=THIRD, severity=Severity.P2)
    )
    record = api.rig.memory.records[THIRD]
    api.rig.memory.records[THIRD] = replace(
        record, facts=replace(record.facts, category="network/outage")
    )
    api.rig.clock.set(at(0.5))
    await api.act(A.ASSIGNED, cid=OTHER, assignee="handler-02")

    assert ids(await listing(api)) == [CID, OTHER, THIRD]
    assert ids(await listing(api, "?severity=P2")) == [OTHER, THIRD]
    assert ids(await listing(api, "?state=dispatched")) == [OTHER]
    assert ids(await listing(api, "?assignee=handler-02")) == [OTHER]
    assert ids(await listing(api, "?category=network/outage")) == [THIRD]
    assert ids(await listing(api, "?channel=hotline&severity=P4")) == [CID]
    assert ids(await listing(api, "?channel=web")) == []
    first = await listing(api, "?page_size=2")
    assert (ids(first), first["page_size"]) == ([CID, OTHER], 2)
    second = await listing(api, f"?page_size=2&after={first['next_after']}")
    assert (ids(second), second["next_after"]) == ([THIRD], None)
    assert ids(await listing(api, f"?page_size=1&after={first['next_after']}")) == [THIRD]
    # Issue 20: handler-01 does not see handler-02's case.
    mine = await listing(api, role=Role.HANDLER)
    assert ids(mine) == [CID, THIRD]


async def test_an_upgraded_case_lists_under_its_new_severity(api: ApiRig) -> None:
    api.rig.clock.set(at(7 * 24 + 0.1))  # unresolved for seven days: upgraded to P2
    scheduler = api.rig.scheduler("a")
    while await scheduler.run_once():
        pass
    assert ids(await listing(api, "?severity=P2")) == [CID]
    assert (await show(api))["severity"] == "P2"
    assert (await show(api))["severity_at_receipt"] == "P4"


async def test_bad_list_parameters_are_422(api: ApiRig) -> None:
    bad = ("?page=2", "?page_size=500", "?state=lost", "?due_within_hours=-1")
    for query in bad:
        answer = await api.get(f"/cases{query}")
        assert answer.status_code == 422, query
        assert answer.json()["reason"] == "invalid_request"
