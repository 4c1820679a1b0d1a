"""The classifier's handler rig: one `Classification` use-case on memory adapters, and the events
intake would hand it."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from classifier.adapters.memory import InMemoryClassificationStore, InMemoryIncidentLedger
from classifier.domain import Classifier
from classifier.handlers import NORMALIZED
from classifier.incident_api import create_incident_api
from classifier.incident_desk import IncidentDesk
from classifier.metrics import ClassifierMetrics
from classifier.service import Classification
from classifier.settings import StaffKey
from classifier.training import read_examples
from complaints_cli.outage import CHANNELS, outage_text
from contracts import (
    Channel,
    ComplaintClassified,
    ComplaintNormalized,
    CustomerTier,
    Event,
    IncidentChanged,
    MaskedComplainant,
    NormalizedComplaint,
    Topic,
)
from servicekit.bodies import deliver
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from tests._builders.doubles import FlakyPublisher

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ME = "ck_" + "a" * 32
OTHER = "ck_" + "b" * 32
BILLING = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"
ENQUIRY = "请问怎么查询话费余额？营业厅几点关门？"
OUTAGE = "阳光花园小区的宽带从今天早上开始全部断网，光猫亮红灯，请尽快抢修。"


@functools.cache
def telecom_pack() -> Classifier:
    """The shipped telecom pack and model, loaded once per test process."""
    return Classifier.load(policy_dir=POLICIES, pack="telecom")


class Publisher(FlakyPublisher[Event]):
    """Collects published events; `classified()` checks they are all decisions."""

    def __init__(self) -> None:
        super().__init__(Event)

    def classified(self) -> list[ComplaintClassified]:
        out = [e for e in self.events if isinstance(e, ComplaintClassified)]
        news = [e for e in self.events if isinstance(e, IncidentChanged)]
        assert len(out) + len(news) == len(self.events)
        return out

    def incidents(self) -> list[IncidentChanged]:
        return [e for e in self.events if isinstance(e, IncidentChanged)]


class Rig:
    """One classification use-case wired to memory adapters."""

    def __init__(self, classifier: Classifier) -> None:
        self.store = InMemoryClassificationStore()
        self.publisher = Publisher()
        self.clock = FakeClock(NOW)
        self.registry = CollectorRegistry()
        self.use_case = Classification(
            classifier=classifier,
            store=self.store,
            publish=self.publisher,
            clock=self.clock,
            metrics=ClassifierMetrics(self.registry),
        )
        self._offset = 0

    def inbound(self, value: bytes) -> Inbound:
        self._offset += 1
        return Inbound(Topic.NORMALIZED.value, 0, self._offset, None, value, 0)

    async def take(self, *events: ComplaintNormalized) -> list[ComplaintClassified]:
        before = len(self.publisher.classified())
        rejections = await deliver(
            NORMALIZED,
            self.use_case.take,
            [self.inbound(e.model_dump_json().encode()) for e in events],
        )
        assert rejections == []
        return self.publisher.classified()[before:]


def normalized(
    number: int,
    text: str,
    *,
    key: str | None = ME,
    at: datetime = NOW,
    duplicate_of: str | None = None,
    tier: CustomerTier = CustomerTier.STANDARD,
    channel: Channel = Channel.HOTLINE,
) -> ComplaintNormalized:
    """A normalised complaint event as intake would publish it."""
    cid = f"CP20261124-{number:010d}"
    data = NormalizedComplaint(
        complaint_id=cid,
        channel=channel,
        received_at=at,
        received_at_local=at.isoformat(),
        text=text,
        text_simplified=text,
        complainant_key=key,
        complainant=MaskedComplainant(phone="+86138****5678", has_phone=True, tier=tier),
        duplicate_of=duplicate_of,
    )
    return ComplaintNormalized.build(
        data=data, subject=cid, source="/complaints/intake", time=at, cause=cid
    )


def outage(
    i: int, *, tier: CustomerTier = CustomerTier.STANDARD, minute: float = 0.0
) -> ComplaintNormalized:
    """The `i`-th complaint of the outage scenario (`complaints_cli.outage`), as intake passes it
    on: its own words and key, a quarter of a minute after the one before unless `minute`."""
    at = NOW + timedelta(minutes=minute if minute else i * 0.25)
    channel = Channel(CHANNELS[i % len(CHANNELS)])
    return normalized(
        100 + i, outage_text(i), key=f"ck_{i:032x}", at=at, tier=tier, channel=channel
    )


INCIDENT_LEAD = "lead-key-0123456789"
INCIDENT_HANDLER = "handler-key-0123456789"
INCIDENT_STAFF = {
    INCIDENT_LEAD: StaffKey(staff_id="ops-lead", role="lead"),
    INCIDENT_HANDLER: StaffKey(staff_id="h-1", role="handler"),
}
"""The incident API's staff keys in the tests: an operations lead and a handler."""


def incident_api(rig: Rig, staff: dict[str, StaffKey] | None = None) -> Any:
    """The classifier's incident API (its ASGI app) over the rig's store, publisher and clock."""
    desk = IncidentDesk(
        store=rig.store,
        ledger=InMemoryIncidentLedger(rig.store),
        windows=rig.use_case.classifier.history_windows,
        publish=rig.publisher,
        clock=rig.clock,
    )
    return create_incident_api(desk=desk, staff=INCIDENT_STAFF if staff is None else staff)


def stored_messages() -> list[tuple[str, Channel, CustomerTier]]:
    """Every stored message (dev fixture, training, held-out, real-voice) with its channel and
    tier, and once more on the forum channel."""
    root = POLICIES.parent
    rows = [
        json.loads(line)
        for line in (root / "data/fixtures/complaints.dev.jsonl").read_text("utf-8").splitlines()
        if line
    ]
    found = [(r["text"], Channel(r["channel"]), CustomerTier(r["customer_tier"])) for r in rows]
    for folder in ("data/classifier", "data/classifier/heldout", "tests/classifier/realvoice"):
        found += [(e.text, e.channel, e.tier) for e in read_examples(root / folder)]
    return found + [(text, Channel.FORUM, tier) for text, _, tier in found]
