"""Operations act on incidents (issue 17): list, show, close, merge, split — through the API."""

from __future__ import annotations

from datetime import timedelta

import httpx

from classifier.domain import Classifier, IncidentKey
from contracts import IncidentChange
from tests._builders.classifier import (
    INCIDENT_HANDLER,
    INCIDENT_LEAD,
    NOW,
    Rig,
    incident_api,
    normalized,
    outage,
)

LEAD, HANDLER = INCIDENT_LEAD, INCIDENT_HANDLER


async def opened(rig: Rig, count: int = 24) -> None:
    """An outage of `count` complaints, decided in batches of eight."""
    events = [outage(i) for i in range(count)]
    for start in range(0, count, 8):
        await rig.take(*events[start : start + 8])


def client(rig: Rig) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=incident_api(rig))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_a_lead_lists_shows_and_closes_an_incident_once(telecom: Classifier) -> None:
    rig = Rig(telecom)
    await opened(rig)
    async with client(rig) as api:
        assert (await api.get("/incidents")).status_code == 401
        [row] = (await api.get("/incidents", headers={"X-Api-Key": HANDLER})).json()
        assert (row["state"], row["members"], row["category"]) == ("open", 24, "network/no_signal")
        ref = row["ref"]
        shown = (await api.get(f"/incidents/{ref}", headers={"X-Api-Key": HANDLER})).json()
        assert len(shown["member_ids"]) == 24
        body = {"resolution": "基站电源已恢复"}
        refused = await api.post(
            f"/incidents/{ref}/close", json=body, headers={"X-Api-Key": HANDLER}
        )
        assert refused.status_code == 403
        before = len(rig.publisher.incidents())
        closed = await api.post(f"/incidents/{ref}/close", json=body, headers={"X-Api-Key": LEAD})
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed"
        again = await api.post(f"/incidents/{ref}/close", json=body, headers={"X-Api-Key": LEAD})
        assert (again.status_code, again.json()["reason"]) == (409, "incident_closed")
        listed = await api.get("/incidents?state=open", headers={"X-Api-Key": LEAD})
        assert listed.json() == []
    [event] = rig.publisher.incidents()[before:]
    record = event.data
    assert record.change is IncidentChange.CLOSED
    assert record.resolution == "基站电源已恢复"
    assert sorted(record.member_ids) == sorted(shown["member_ids"])
    assert record.sequence > max(e.data.sequence for e in rig.publisher.incidents()[:before])
    # A complaint about the same outage after the close joins nothing and opens nothing yet.
    await rig.take(outage(30, minute=7.0))
    assert rig.publisher.incidents()[before:] == [event]


async def test_split_takes_members_out_for_good_and_merge_folds_one_into_another(
    telecom: Classifier,
) -> None:
    rig = Rig(telecom)
    await opened(rig)
    async with client(rig) as api:
        headers = {"X-Api-Key": LEAD}
        [row] = (await api.get("/incidents", headers=headers)).json()
        ref = row["ref"]
        members = (await api.get(f"/incidents/{ref}", headers=headers)).json()["member_ids"]
        out = members[:2]
        split = await api.post(
            f"/incidents/{ref}/split", json={"complaint_ids": out}, headers=headers
        )
        assert split.status_code == 200, split.text
        assert sorted(split.json()["member_ids"]) == sorted(members[2:])
        event = rig.publisher.incidents()[-1].data
        assert (event.change, event.removed_ids) == (IncidentChange.MEMBER_REMOVED, sorted(out))
        # A later complaint of the same outage grows the incident; those taken out stay out.
        await rig.take(outage(24, minute=6.5))
        shown = (await api.get(f"/incidents/{ref}", headers=headers)).json()
        assert not set(out) & set(shown["member_ids"])
        unknown = await api.post(
            f"/incidents/{ref}/split", json={"complaint_ids": out}, headers=headers
        )
        assert (unknown.status_code, unknown.json()["reason"]) == (422, "not_a_member")
        self_merge = await api.post(f"/incidents/{ref}/merge", json={"into": ref}, headers=headers)
        assert self_merge.status_code == 422
        missing = await api.post(
            f"/incidents/{ref}/merge", json={"into": "IN-000000000000"}, headers=headers
        )
        assert missing.status_code == 404


async def test_merge_folds_a_billing_incident_into_another_and_closes_it(
    telecom: Classifier,
) -> None:
    rig = Rig(telecom)
    await opened(rig)  # network/no_signal, wide
    bills = [
        normalized(
            300 + i,
            "这个月话费突然多扣了两百块，计费明显出错了，请核实退费",
            key=f"ck_{1000 + i:032x}",
            at=NOW + timedelta(minutes=i * 0.25),
        )
        for i in range(20)
    ]
    await rig.take(*bills[:10])
    await rig.take(*bills[10:])
    headers = {"X-Api-Key": LEAD}
    async with client(rig) as api:
        rows = (await api.get("/incidents", headers=headers)).json()
        assert len(rows) == 2, rows
        [network] = [r for r in rows if r["category"] == "network/no_signal"]
        [other] = [r for r in rows if r is not network]
        moved = (await api.get(f"/incidents/{other['ref']}", headers=headers)).json()["member_ids"]
        merged = await api.post(
            f"/incidents/{other['ref']}/merge", json={"into": network["ref"]}, headers=headers
        )
        assert merged.status_code == 200, merged.text
        assert set(moved) <= set(merged.json()["member_ids"])
        shown = (await api.get(f"/incidents/{other['ref']}", headers=headers)).json()
        assert (shown["state"], shown["merged_into"]) == ("merged", network["incident_id"])
    last, grown = rig.publisher.incidents()[-2:]
    assert (last.data.change, last.data.merged_into) == (
        IncidentChange.MERGED,
        network["incident_id"],
    )
    assert grown.data.change is IncidentChange.GROWN
    assert set(moved) <= set(grown.data.member_ids)
    assert grown.data.added_ids == []  # told under the merged incident: nobody is told again


async def test_a_new_burst_after_the_close_opens_a_new_incident(telecom: Classifier) -> None:
    rig = Rig(telecom)
    await opened(rig)
    async with client(rig) as api:
        headers = {"X-Api-Key": LEAD}
        [row] = (await api.get("/incidents", headers=headers)).json()
        closed = await api.post(
            f"/incidents/{row['ref']}/close", json={"resolution": "已恢复"}, headers=headers
        )
        assert closed.status_code == 200, closed.text
        closed_id = rig.publisher.incidents()[-1].data.incident_id
        before = len(rig.publisher.incidents())
        # The outage comes back within the same half hour: twenty new customers.
        again = [outage(i, minute=7.0 + (i - 30) * 0.25) for i in range(30, 50)]
        for start in range(0, len(again), 8):
            await rig.take(*again[start : start + 8])
        listed = (await api.get("/incidents?state=open", headers=headers)).json()
    [event] = rig.publisher.incidents()[before:]
    record = event.data
    assert record.change is IncidentChange.OPENED
    assert record.incident_id != closed_id
    assert IncidentKey.parse(record.incident_id).issue == IncidentKey.parse(closed_id).issue
    assert sorted(record.member_ids) == sorted(e.data.complaint_id for e in again)
    assert [r["members"] for r in listed] == [20]
    decided = {e.data.complaint_id: e.data for e in rig.publisher.classified()}
    assert {decided[e.data.complaint_id].incident_id for e in again[-1:]} == {record.incident_id}
