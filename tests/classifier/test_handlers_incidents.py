"""Mass incidents without a shared place name, by the VIP rule, and the events that tell of them."""

from __future__ import annotations

from datetime import timedelta

from classifier.domain import Classifier
from complaints_cli.outage import outage_text
from contracts import Channel, CustomerTier, IncidentChange
from tests._builders.classifier import NOW, Rig, normalized, outage


async def test_forty_complaints_without_a_shared_place_name_make_one_incident(rig: Rig) -> None:
    events = [outage(i) for i in range(40)]
    texts = {e.data.text for e in events}
    assert len(texts) > 10  # different wordings, some with different street names
    decided = []
    for start in range(0, 40, 7):  # batches as a consumer would see them
        decided += await rig.take(*events[start : start + 7])
    [record] = rig.store.incidents.values()
    assert record.category == "network/no_signal"
    assert record.area == "*"
    members = set(record.complaint_ids)
    assert members == {e.data.complaint_id for e in events}
    # From the threshold on (and the batch that reached it), decisions carry the incident id.
    carried = [e for e in decided if e.data.incident_id == record.incident_id]
    assert len(carried) >= 20
    news = rig.publisher.incidents()
    assert next(n.data.change for n in news) is IncidentChange.OPENED
    assert {n.data.change for n in news[1:]} <= {IncidentChange.GROWN}
    assert len({n.id for n in news}) == len(news)
    last = news[-1].data
    assert set(last.member_ids) == members
    assert last.counts.total == 40
    assert sum(last.counts.by_channel.values()) == 40
    assert last.counts.by_channel[Channel.APP] == 13
    assert last.opened_by == "ordinary"
    assert last.area is None
    assert last.first_seen == NOW
    assert last.last_seen == NOW + timedelta(minutes=39 * 0.25)
    # Every member was announced exactly once, as it joined.
    announced = [cid for n in news for cid in n.data.added_ids]
    assert sorted(announced) == sorted(members)


async def test_redelivered_batch_tells_nothing_new(rig: Rig) -> None:
    events = [outage(i) for i in range(25)]
    await rig.take(*events)
    told = len(rig.publisher.incidents())
    await rig.take(*events)
    assert len(rig.publisher.incidents()) == told == 1


async def test_three_important_customers_open_an_incident_below_the_ordinary_threshold(
    rig: Rig, telecom: Classifier
) -> None:
    assert telecom.history_windows.mass_incident_min_important == 3
    ordinary = [outage(i, minute=i) for i in range(5)]
    vips = [outage(10 + i, tier=CustomerTier.GOLD, minute=6 + i) for i in range(3)]
    decided = await rig.take(*ordinary, *vips[:2])
    assert not rig.store.incidents
    assert not any(e.data.incident_id for e in decided)
    [third] = await rig.take(vips[2])
    [record] = rig.store.incidents.values()
    assert third.data.incident_id == record.incident_id
    [news] = rig.publisher.incidents()
    assert news.data.opened_by == "important"
    assert news.data.counts.important == 3
    assert news.data.counts.total == news.data.opened_with == 8
    assert news.data.counts.by_tier[CustomerTier.GOLD] == 3


async def test_the_same_vip_three_times_is_one_important_customer(rig: Rig) -> None:
    same = [
        normalized(
            200 + i,
            outage_text(i),
            key="ck_" + "e" * 32,
            tier=CustomerTier.DIAMOND,
            at=NOW + timedelta(minutes=i),
        )
        for i in range(3)
    ]
    await rig.take(*same)
    assert not rig.store.incidents


async def test_complaints_decided_out_of_receipt_order_still_make_the_incident(rig: Rig) -> None:
    events = [outage(i) for i in range(20)]
    for event in reversed(events):  # one per batch, latest receipt first (other partitions)
        await rig.take(event)
    [record] = rig.store.incidents.values()
    assert sorted(record.complaint_ids) == sorted(e.data.complaint_id for e in events)


async def test_a_complaint_after_the_incident_opened_joins_it_though_its_window_is_quiet(
    rig: Rig,
) -> None:
    await rig.take(*(outage(i, minute=i) for i in range(20)))  # minutes 0..19: opens
    [record] = rig.store.incidents.values()
    [tail] = await rig.take(outage(39, minute=45))  # its own 30 minutes hold only five
    assert tail.data.incident_id == record.incident_id
    assert tail.data.complaint_id in record.complaint_ids
    [*_, grown] = rig.publisher.incidents()
    assert grown.data.added_ids == [tail.data.complaint_id]
    [alone] = await rig.take(outage(38, minute=19 + 30 + 31))  # long after it was last seen
    assert alone.data.incident_id is None
