"""Issue 20: a case's contact is masked on reads; revealing it is role-checked and logged.

The reveal answers the contact unmasked only to the handler who works the case, a lead of its
department or a manager, and only once the access-log entry (who, when, which case, which
fields, why) is stored; the auditor reads the log, nobody else does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from contracts import LifecycleAction as A
from sla.adapters.privacy import InMemoryAccessLog, MongoAccessLog
from sla.privacy.contact import (
    AccessEntry,
    ContactCard,
    ContactView,
    mask_address,
    mask_name,
    mask_phone,
)
from sla.privacy.ports import AccessLog, AccessQuery
from sla.settings import Role
from tests._builders.sla import CID, KEYS, NETWORK_KEY, RECEIVED, ApiRig, Rig, case_api
from tests.sla.contract import Adapters

PHONE, NAME, ADDRESS = "+8613812345678", "张三丰", "北京市朝阳区建国路88号3单元501"
REVEAL = f"/cases/{CID}/contact/reveal"
LOG = "/cases/audit/access-log"


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over a classified complaint whose customer left a contact."""
    async with case_api(rig) as opened:
        opened.contacts.cards[CID] = ContactCard(phone=PHONE, name=NAME, address=ADDRESS)
        yield opened


async def reveal(api: ApiRig, key: str, **body: Any) -> httpx.Response:
    payload = {"reason": "回访客户，核对地址"} | body
    return await api.client.post(REVEAL, json=payload, headers={"X-Api-Key": key})


def test_masking_keeps_only_what_tells_cases_apart() -> None:
    assert mask_phone(PHONE) == "138****5678"
    assert mask_phone("+12025550123") == "120****0123"
    assert mask_phone("12345") == "*****"
    assert mask_name(NAME) == "张**"
    assert mask_name("李") == "李*"
    assert mask_address(ADDRESS) == "北京市朝阳区****"
    assert mask_address("北京") == "北****"
    view = ContactView.of(ContactCard(phone=PHONE, name=NAME, address=ADDRESS))
    assert NAME not in view.model_dump_json()
    assert "13812345678" not in view.model_dump_json()


async def test_every_key_that_reads_the_case_sees_the_contact_masked(api: ApiRig) -> None:
    for role in (Role.HANDLER, Role.LEAD, Role.MANAGER):
        shown = await api.get(f"/cases/{CID}", role)
        assert shown.status_code == 200, shown.text
        assert shown.json()["contact"] == {
            "phone": "138****5678",
            "name": "张**",
            "address": "北京市朝阳区****",
            "masked": True,
        }
        assert "13812345678" not in shown.text
        assert NAME not in shown.text
    assert api.access_log.kept == []  # masked reads are not logged


async def test_the_assigned_handler_reveals_and_the_auditor_sees_the_entry(api: ApiRig) -> None:
    await api.act(A.ASSIGNED, assignee="handler-01", department="billing")
    api.rig.clock.advance(timedelta(minutes=5))
    shown = await reveal(api, KEYS[Role.HANDLER], fields=["phone"])
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["phone"], body["name"], body["address"]) == (PHONE, None, None)
    [entry] = api.access_log.kept
    assert (entry.staff_id, entry.role, entry.complaint_id) == ("handler-01", "handler", CID)
    assert (entry.fields, entry.reason, entry.access_id) == (
        ("phone",),
        "回访客户，核对地址",
        body["access_id"],
    )
    assert entry.at == api.rig.clock.now().replace(microsecond=0)
    listed = await api.get(LOG, Role.AUDITOR)
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert (row["staff_id"], row["complaint_id"], row["fields"]) == ("handler-01", CID, ["phone"])
    assert listed.json()["next_before"] is None


async def test_who_may_reveal(api: ApiRig) -> None:
    # Front desk queue: the handler sees the case masked but does not work it yet.
    refused = await reveal(api, KEYS[Role.HANDLER])
    assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden_for_role")
    assert (await reveal(api, KEYS[Role.LEAD])).status_code == 200  # billing's lead
    assert (await reveal(api, KEYS[Role.MANAGER])).status_code == 200
    await api.act(A.ASSIGNED, assignee="handler-01", department="billing")
    other = await reveal(api, NETWORK_KEY)  # network's lead: not their department's case
    assert (other.status_code, other.json()["reason"]) == (403, "not_your_case")
    auditor = await reveal(api, KEYS[Role.AUDITOR])
    assert (auditor.status_code, auditor.json()["reason"]) == (403, "not_your_case")
    assert [e.staff_id for e in api.access_log.kept] == ["lead-01", "manager-01"]


async def test_the_auditor_reads_no_case_and_only_the_auditor_reads_the_log(api: ApiRig) -> None:
    assert (await api.get(f"/cases/{CID}", Role.AUDITOR)).status_code == 403
    assert (await api.get("/cases", Role.AUDITOR)).json()["items"] == []
    acted = await api.post(A.CONTACTED, role=Role.AUDITOR)
    assert (acted.status_code, acted.json()["reason"]) == (403, "forbidden_for_role")
    for role in (Role.HANDLER, Role.LEAD, Role.MANAGER):
        refused = await api.get(LOG, role)
        assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden_for_role")
    unknown = await api.get(f"{LOG}?reason[$ne]=x", Role.AUDITOR)
    assert (unknown.status_code, unknown.json()["reason"]) == (422, "invalid_request")


async def test_no_reveal_without_a_reason_a_contact_or_the_access_log(api: ApiRig) -> None:
    manager = KEYS[Role.MANAGER]
    assert (await reveal(api, manager, reason="")).status_code == 422
    assert (await reveal(api, manager, fields=["id_number"])).status_code == 422
    api.access_log.fail = True
    down = await reveal(api, manager)
    assert (down.status_code, down.json()["reason"]) == (503, "access_log_unavailable")
    assert "13812345678" not in down.text
    api.access_log.fail = False
    del api.contacts.cards[CID]
    gone = await reveal(api, manager)
    assert (gone.status_code, gone.json()["reason"]) == (404, "no_contact")
    assert api.access_log.kept == []
    assert (await api.get(f"/cases/{CID}", Role.MANAGER)).json()["contact"] is None


async def test_the_access_log_pages_newest_first_and_filters(api: ApiRig) -> None:
    for _ in range(5):
        api.rig.clock.advance(timedelta(seconds=1))
        assert (await reveal(api, KEYS[Role.MANAGER])).status_code == 200
    api.rig.clock.advance(timedelta(seconds=1))  # the same instant would order by random id
    assert (await reveal(api, KEYS[Role.LEAD])).status_code == 200
    seen: list[str] = []
    after = ""
    while True:
        page = (await api.get(f"{LOG}?page_size=2{after}", Role.AUDITOR)).json()
        seen += [row["staff_id"] for row in page["items"]]
        if page["next_before"] is None:
            break
        after = f"&before={page['next_before']}"
    assert seen == ["lead-01"] + ["manager-01"] * 5
    mine = (await api.get(f"{LOG}?staff_id=lead-01", Role.AUDITOR)).json()["items"]
    assert [row["staff_id"] for row in mine] == ["lead-01"]
    other_case = (await api.get(f"{LOG}?complaint_id=CP20261124-0000000009", Role.AUDITOR)).json()
    assert other_case["items"] == []


def entry(n: int, *, staff: str = "manager-01", cid: str = CID) -> AccessEntry:
    at = RECEIVED + timedelta(seconds=n // 2)  # two entries per second: ties broken by id
    return AccessEntry(f"{n:032x}", at, staff, "manager", cid, ("phone",), "回访")


def access_log(adapters: Adapters) -> AccessLog:
    return InMemoryAccessLog() if adapters.kind == "memory" else MongoAccessLog(adapters.db)


async def test_access_log_contract(adapters: Adapters) -> None:
    """The fake and the real access log answer the same queries alike."""
    log = access_log(adapters)
    await log.ensure_indexes()
    for n in range(6):
        await log.record(entry(n, staff="lead-01" if n == 3 else "manager-01"))
    await log.record(entry(6, cid="CP20261124-0000000002"))
    newest = await log.entries(AccessQuery(limit=3))
    assert [e.access_id for e in newest] == [f"{n:032x}" for n in (6, 5, 4)]
    assert newest[0] == entry(6, cid="CP20261124-0000000002")
    older = await log.entries(AccessQuery(before=(newest[-1].at, newest[-1].access_id)))
    assert [int(e.access_id, 16) for e in older] == [3, 2, 1, 0]
    of_case = await log.entries(AccessQuery(complaint_id=CID, staff_id="manager-01"))
    assert [int(e.access_id, 16) for e in of_case] == [5, 4, 2, 1, 0]
