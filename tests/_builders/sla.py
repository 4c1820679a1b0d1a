"""An SLA service in process: its keepers on in-memory stores, sample messages, the case API.

Shared by the CLI tests (and meant for tests/sla, whose own copies in test_handlers.py and
test_case_api.py are to fold in here: issue 19).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from contracts import (
    Audience,
    CaseActionTaken,
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    DeliveryStatus,
    Event,
    Kind,
    LifecycleAction,
    NotificationReceipt,
    NotificationSent,
    Severity,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from sla.adapters.memory import InMemoryCaseStore, InMemoryClockReader, InMemoryDeadlineStore
from sla.cases import CaseKeeper
from sla.domain import BusinessCalendar, SlaPolicy
from sla.http_api import CaseDesk, create_case_api
from sla.metrics import SlaMetrics
from sla.queries import CaseQueries
from sla.scheduler import Scheduler
from sla.service import ClockKeeper
from sla.settings import Role, StaffKey
from tests._builders.doubles import E, FlakyPublisher

POLICIES = Path(__file__).resolve().parents[2] / "policies"
POLICY = SlaPolicy.load(policy_dir=POLICIES)
CALENDAR = BusinessCalendar.load(policy_dir=POLICIES)
# Tuesday 24 November 2026, 09:30 in Shanghai: a working-day morning.
RECEIVED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CID = "CP20261124-0000000001"


class Publisher(FlakyPublisher[Event]):
    """Collects what the service publishes; `sla` are the clock events, `kinds()` their kinds."""

    def __init__(self) -> None:
        super().__init__(Event)

    @property
    def sla(self) -> list[SlaChanged]:
        return [e for e in self.events if isinstance(e, SlaChanged)]

    def of(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]

    def kinds(self) -> list[SlaEventKind]:
        return [e.data.event for e in self.sla]


class Rig:
    """A clock keeper and its memory stores."""

    def __init__(self) -> None:
        self.deadlines = InMemoryDeadlineStore()
        self.cases = InMemoryCaseStore()
        self.publisher = Publisher()
        self.clock = FakeClock(RECEIVED + timedelta(seconds=5))
        self.registry = CollectorRegistry()
        self.metrics = SlaMetrics(self.registry)
        self.wakes = 0
        wiring: dict[str, Any] = {
            "policy": POLICY,
            "calendar": CALENDAR,
            "deadlines": self.deadlines,
            "cases": self.cases,
            "publish": self.publisher,
            "clock": self.clock,
            "metrics": self.metrics,
            "wake": self._wake,
        }
        self.keeper = ClockKeeper(**wiring)
        self.case_keeper = CaseKeeper(**wiring)
        self._offset = 0

    def _wake(self) -> None:
        self.wakes += 1

    def inbound(self, value: bytes, topic: Topic = Topic.CLASSIFIED) -> Inbound:
        self._offset += 1
        return Inbound(topic.value, 0, self._offset, CID.encode(), value, 0)

    async def classified(self, *events: ComplaintClassified) -> None:
        rejections = await self.keeper.on_classified(
            [self.inbound(e.model_dump_json().encode()) for e in events]
        )
        assert rejections == []

    def scheduler(self, owner: str, store: InMemoryDeadlineStore | None = None) -> Scheduler:
        return Scheduler(
            store=store or self.deadlines,
            publish=self.publisher,
            clock=self.clock,
            metrics=self.metrics,
            owner=owner,
            lease=timedelta(seconds=30),
        )


def classified(
    *,
    cid: str = CID,
    kind: Kind = Kind.COMPLAINT,
    severity: Severity | None = Severity.P4,
    duplicate_of: str | None = None,
    complainant_key: str | None = None,
) -> ComplaintClassified:
    """A classifier decision received at RECEIVED."""
    data = ClassifiedComplaint(
        complaint_id=cid,
        complainant_key=complainant_key,
        channel=Channel.HOTLINE,
        received_at=RECEIVED,
        kind=kind,
        category="billing/overcharge" if kind is Kind.COMPLAINT else None,
        severity=severity if kind is Kind.COMPLAINT else None,
        confidence=0.9,
        model_version="test",
        policy="telecom",
        policy_version="test",
        duplicate_of=duplicate_of,
    )
    return ComplaintClassified.build(
        data=data, subject=cid, source="/complaints/classifier", time=RECEIVED, cause=cid
    )


def receipt(
    *,
    audience: Audience = Audience.CUSTOMER,
    template: str = "acknowledgement",
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
) -> NotificationSent:
    """A notifier receipt for CID."""
    key = f"{CID}:ack:-:-:{audience.value}"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=CID,
        audience=audience,
        channel="sms",
        template=template,
        status=status,
        attempts=1,
    )
    return NotificationSent.build(
        data=data, subject=CID, source="/complaints/notifier", time=RECEIVED, cause=key
    )


async def on_receipts(rig: Rig, *events: NotificationSent) -> None:
    """Hand notifier receipts to the case keeper, as its subscription would."""
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.NOTIFICATION_SENT) for e in events]
    assert await rig.case_keeper.on_receipts(messages) == []


A = LifecycleAction
KEYS = {role: f"{role.value}-key-0123456789abcdef" for role in Role}
STAFF = {KEYS[role]: StaffKey(staff_id=f"{role.value}-01", role=role) for role in Role}
# Fields that satisfy every action's own requirements.
FIELDS: dict[LifecycleAction, dict[str, Any]] = {
    A.ASSIGNED: {"assignee": "handler-01", "department": "billing"},
    A.AWAITING_CUSTOMER: {"reason": "waiting for the customer's bill"},
    A.RESOLVED: {"result": "refunded the overcharge"},
    A.CALLBACK_DONE: {"satisfaction": "satisfied"},
    A.CLOSED: {"verdict": "upheld", "root_cause": "billing rule"},
    A.REOPENED: {"reason": "the fault is back"},
    A.WITHDRAWN: {"reason": "the customer withdrew"},
    A.DEADLINE_EXTENDED: {
        "clock": "resolution",
        "extend_by_hours": 8,
        "reason": "needs the vendor",
        "approver": "manager-01",
    },
}
# Who records each action in the journeys below.
ACTOR = {
    A.ASSIGNED: Role.LEAD,
    A.CLOSED: Role.LEAD,
    A.REOPENED: Role.LEAD,
    A.DEADLINE_EXTENDED: Role.MANAGER,
}


class ApiRig:
    """The case API over a lifecycle rig; `consume()` applies what the API published."""

    def __init__(
        self,
        rig: Rig,
        transport: httpx.AsyncBaseTransport,
        publish: FlakyPublisher[CaseActionTaken],
    ) -> None:
        self.rig = rig
        self.transport = transport  # the API in process
        self.client = httpx.AsyncClient(transport=transport, base_url="http://sla")
        self.publish = publish  # what the API publishes; `failures` makes it fail like Kafka
        self._ids = 0

    @property
    def published(self) -> list[CaseActionTaken]:
        """Actions the API published and `consume` has not applied yet."""
        return self.publish.events

    async def post(
        self,
        action: LifecycleAction,
        *,
        role: Role | None = None,
        action_id: str | None = None,
        cid: str = CID,
        **fields: Any,
    ) -> httpx.Response:
        """POST one action as `role` (default: who records it in a journey)."""
        self._ids += 1
        body = {"action": action.value, "action_id": action_id or f"a{self._ids}", **fields}
        key = KEYS[role or ACTOR.get(action, Role.HANDLER)]
        return await self.client.post(
            f"/cases/{cid}/actions", json=body, headers={"X-Api-Key": key}
        )

    async def get(self, path: str, role: Role = Role.HANDLER) -> httpx.Response:
        return await self.client.get(path, headers={"X-Api-Key": KEYS[role]})

    async def consume(self) -> None:
        """Hand the published actions to the lifecycle consumer."""
        messages = [
            self.rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in self.published
        ]
        self.published.clear()
        assert await self.rig.case_keeper.on_lifecycle(messages) == []

    async def act(self, action: LifecycleAction, **fields: Any) -> dict[str, Any]:
        """Post, apply, and read the applied result from the Location."""
        answer = await self.post(action, **(FIELDS.get(action, {}) | fields))
        assert answer.status_code == 202, answer.text
        await self.consume()
        applied = await self.get(answer.headers["location"])
        assert applied.status_code == 200, applied.text
        body: dict[str, Any] = applied.json()
        return body


@contextlib.asynccontextmanager
async def case_api(rig: Rig) -> AsyncIterator[ApiRig]:
    """A classified P4 complaint and the case API in front of it."""
    await rig.classified(classified())
    rig.publisher.events.clear()
    publish = FlakyPublisher(CaseActionTaken)
    desk = CaseDesk(
        cases=rig.cases, policy=POLICY, calendar=CALENDAR, publish=publish, clock=rig.clock
    )
    queries = CaseQueries(
        cases=rig.cases, clocks=InMemoryClockReader(rig.deadlines), calendar=CALENDAR
    )
    app = create_case_api(desk=desk, queries=queries, staff=STAFF, clock=rig.clock)
    api = ApiRig(rig, httpx.ASGITransport(app=app), publish)
    async with api.client:
        yield api
