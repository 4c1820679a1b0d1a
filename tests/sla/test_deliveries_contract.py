"""Contract of the SLA's `CaseDeliveries` port: the fake, and the real adapter reading what the
real notifier log stores (read model `CASE_DELIVERIES`, ADR 0006 addendum 2026-12-07)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts import Audience, DeliveryStatus, Severity
from contracts.read_models import CaseDelivery
from notifier.adapters.mongo import MongoNotificationLog
from notifier.domain import Delivery, Intent, Recipient
from notifier.ports import Outcome
from sla.adapters.deliveries import InMemoryCaseDeliveries, MongoCaseDeliveries
from sla.ports import CaseDeliveries
from tests._builders.sla import CID, RECEIVED, cid_n
from tests.sla.contract import Adapters

LEASE = timedelta(minutes=2)


def delivery(name: str, cid: str = CID, audience: Audience = Audience.HANDLER) -> Delivery:
    """A delivery of template `name` about `cid`."""
    intent = Intent(
        key=f"{cid}:{name}:-:-:{audience.value}",
        complaint_id=cid,
        audience=audience,
        template=name,
        trigger_time=RECEIVED,
        context={"case": cid},
        severity=Severity.P4,
    )
    return Delivery(intent.key, intent, Recipient("h-1", "wecom", "addr-secret", "h-1"))


@dataclass
class Notifier:
    """The notifier's side: claims and outcomes, stored where the port reads them."""

    adapters: Adapters
    fake: InMemoryCaseDeliveries

    def port(self) -> CaseDeliveries:
        """The port under test."""
        if self.adapters.kind == "memory":
            return self.fake
        return MongoCaseDeliveries(self.adapters.db)

    async def claim(self, d: Delivery, at: datetime) -> None:
        """A claim being sent (no outcome yet)."""
        if self.adapters.kind == "memory":
            self.fake.put(_row(d, "sending", at, None))
            return
        log = MongoNotificationLog(self.adapters.db)
        await log.claim([d], now=at, lease_until=at + LEASE)

    async def settle(self, d: Delivery, status: DeliveryStatus, at: datetime) -> None:
        """The outcome stored at `at` (its receipt's time)."""
        if self.adapters.kind == "memory":
            self.fake.put(_row(d, status.value, RECEIVED, at))
            return
        log = MongoNotificationLog(self.adapters.db)
        after = at + LEASE if status is DeliveryStatus.DEFERRED else None
        await log.complete([Outcome(d, "wecom", status, 1, None, None, after)], now=at)


def _row(d: Delivery, status: str, claimed: datetime, done: datetime | None) -> CaseDelivery:
    fields: dict[str, Any] = {
        "_id": d.key,
        "complaint_id": d.intent.complaint_id,
        "audience": d.intent.audience.value,
        "template": d.intent.template,
        "channel": "wecom" if done else None,
        "status": status,
        "claimed_at": claimed,
        "completed_at": done,
    }
    return CaseDelivery.model_validate(fields)


def minutes(n: int) -> datetime:
    return RECEIVED + timedelta(minutes=n)


async def test_a_case_shows_its_settled_and_waiting_deliveries_oldest_first(
    adapters: Adapters,
) -> None:
    notifier = Notifier(adapters, InMemoryCaseDeliveries())
    ack, assigned, warned, sending = (
        delivery("acknowledgement", audience=Audience.CUSTOMER),
        delivery("staff_assigned"),
        delivery("staff_warned"),
        delivery("staff_breached"),
    )
    other = delivery("acknowledgement", cid_n(2), Audience.CUSTOMER)
    for d in (ack, assigned, warned, sending, other):
        await notifier.claim(d, RECEIVED)
    await notifier.settle(assigned, DeliveryStatus.DEFERRED, minutes(5))
    await notifier.settle(ack, DeliveryStatus.DELIVERED, minutes(1))
    await notifier.settle(warned, DeliveryStatus.FAILED, minutes(3))
    await notifier.settle(other, DeliveryStatus.DELIVERED, minutes(2))
    shown = await notifier.port().of_case(CID)
    assert [(r.notification_id, r.status, r.at) for r in shown] == [
        (ack.key, DeliveryStatus.DELIVERED, minutes(1)),
        (warned.key, DeliveryStatus.FAILED, minutes(3)),
        (assigned.key, DeliveryStatus.DEFERRED, minutes(5)),
    ]  # the one being sent has no receipt yet; the other case's is not shown
    assert shown[0].audience is Audience.CUSTOMER
    assert (shown[0].template, shown[0].channel) == ("acknowledgement", "wecom")
    assert await notifier.port().of_case(cid_n(9)) == []


async def test_a_deferred_delivery_shows_once_with_its_latest_outcome(
    adapters: Adapters,
) -> None:
    notifier = Notifier(adapters, InMemoryCaseDeliveries())
    d = delivery("staff_assigned")
    await notifier.claim(d, RECEIVED)
    await notifier.settle(d, DeliveryStatus.DEFERRED, minutes(5))
    await notifier.settle(d, DeliveryStatus.DELIVERED, minutes(9))
    [shown] = await notifier.port().of_case(CID)
    assert (shown.status, shown.at) == (DeliveryStatus.DELIVERED, minutes(9))
