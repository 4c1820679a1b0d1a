"""An SLA service in process: its use-cases on in-memory stores, sample messages, the case API.

Shared by the SLA and CLI tests (issue 19: one set of builders, no test module importing another).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from contracts import (
    Audience,
    CaseActionTaken,
    CaseState,
    CaseUpdated,
    Channel,
    ClockName,
    ComplaintClassified,
    DeliveryStatus,
    Event,
    IncidentChange,
    IncidentChanged,
    Kind,
    LifecycleAction,
    NotificationReceipt,
    NotificationSent,
    Severity,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from contracts.read_models import CaseDelivery
from servicekit.bodies import deliver
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from sla.adapters.deliveries import InMemoryCaseDeliveries
from sla.adapters.liveness import InMemoryLiveness
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.adapters.privacy import InMemoryAccessLog, InMemoryContactDirectory
from sla.casework.actions import ApplyCaseAction
from sla.casework.receipts import RecordReceipt
from sla.casework.start import StartClocks
from sla.casework.work import CaseWork
from sla.clocks.due import due_entry
from sla.clocks.liveness import Liveness
from sla.clocks.scheduler import Scheduler
from sla.clocks.sheet import ClockEntry, Threshold
from sla.domain import BusinessCalendar, Case, SlaPolicy, open_case
from sla.handlers import CLASSIFIED, LIFECYCLE, RECEIPTS
from sla.http_api import CaseDesk, create_case_api
from sla.metrics import SlaMetrics
from sla.ports import CaseFacts, CaseRecord, CaseStore, DueIndex
from sla.privacy.api import add_privacy_routes
from sla.privacy.reveal import RevealContact
from sla.queries import CaseQueries
from sla.settings import Role, StaffKey
from tests._builders.decisions import decision
from tests._builders.doubles import E, FlakyPublisher
from tests._builders.incidents import incident

POLICIES = Path(__file__).resolve().parents[2] / "policies"
POLICY = SlaPolicy.load(policy_dir=POLICIES)
CALENDAR = BusinessCalendar.load(policy_dir=POLICIES)
# Tuesday 24 November 2026, 09:30 in Shanghai: a working-day morning.
RECEIVED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CID = "CP20261124-0000000001"


class Publisher(FlakyPublisher[Event]):
    """Collects what the service publishes; `sla` are the clock events, `kinds()` their kinds.
    Case states (`complaints.cases.v1`) are kept apart in `states`: `events` are the others."""

    def __init__(self) -> None:
        super().__init__(Event)
        self.states: list[CaseUpdated] = []

    async def __call__(self, events: Sequence[Event]) -> None:
        await super().__call__(events)  # fails like Kafka for the whole batch, or takes it
        self.states += [e for e in self.events if isinstance(e, CaseUpdated)]
        self.events = [e for e in self.events if not isinstance(e, CaseUpdated)]

    def latest(self) -> dict[str, CaseUpdated]:
        """The last state published per case: what a reader of the compacted topic keeps."""
        return {s.data.complaint_id: s for s in self.states}

    @property
    def sla(self) -> list[SlaChanged]:
        return [e for e in self.events if isinstance(e, SlaChanged)]

    def of(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]

    def kinds(self) -> list[SlaEventKind]:
        return [e.data.event for e in self.sla]


class Rig:
    """The SLA use-cases over one pair of stores (memory unless given)."""

    def __init__(
        self,
        cases: CaseStore | None = None,
        index: DueIndex | None = None,
        liveness: Liveness | None = None,
    ) -> None:
        self.memory = InMemoryCaseStore()
        self.cases: CaseStore = cases or self.memory
        self.index: DueIndex = index or InMemoryDueIndex()
        self.liveness: Liveness = liveness or InMemoryLiveness()
        self.publisher = Publisher()
        self.clock = FakeClock(RECEIVED + timedelta(seconds=5))
        self.registry = CollectorRegistry()
        self.metrics = SlaMetrics(self.registry)
        self.wakes = 0
        self.work = work = CaseWork(
            POLICY, CALENDAR, self.cases, self.index, self.publisher, self.clock, self.metrics
        )
        self.start = StartClocks.using(work, wake=self._wake)
        self.actions = ApplyCaseAction.using(work, wake=self._wake)
        self.receipts = RecordReceipt(
            cases=self.cases, metrics=self.metrics, publish=self.publisher, clock=self.clock
        )
        self._offset = 0

    def _wake(self, at: datetime) -> None:
        self.wakes += 1

    def inbound(self, value: bytes, topic: Topic = Topic.CLASSIFIED) -> Inbound:
        self._offset += 1
        return Inbound(topic.value, 0, self._offset, CID.encode(), value, 0)

    async def classified(self, *events: ComplaintClassified) -> None:
        rejections = await deliver(
            CLASSIFIED,
            self.start.on_classified,
            [self.inbound(e.model_dump_json().encode()) for e in events],
        )
        assert rejections == []

    async def record(self, cid: str = CID) -> CaseRecord:
        record = await self.cases.load(cid)
        assert record is not None
        return record

    async def entry(self, key: str, cid: str = CID) -> ClockEntry:
        """One clock entry of a stored case's sheet."""
        return next(c for c in (await self.record(cid)).clocks if c.key == key)

    def scheduler(self, owner: str, index: DueIndex | None = None) -> Scheduler:
        """A scheduler replica (give it its own index object to model another process)."""
        return Scheduler(
            cases=self.cases,
            index=index or self.index,
            publish=self.publisher,
            clock=self.clock,
            metrics=self.metrics,
            policy=POLICY,
            calendar=CALENDAR,
            owner=owner,
            liveness=self.liveness,
            lease=timedelta(seconds=30),
        )

    async def seed(self, *sheets: tuple[str, Sequence[ClockEntry]]) -> None:
        """Cases with hand-made clock sheets, indexed as StartClocks indexes them."""
        records = [
            CaseRecord(
                facts=CaseFacts(cid, RECEIVED, Channel.HOTLINE, (), Severity.P4),
                case=open_case(severity=Severity.P4),
                version=0,
                clocks=tuple(sheet),
            )
            for cid, sheet in sheets
        ]
        entries = [e for r in records if (e := due_entry(r.complaint_id, r.clocks)) is not None]
        await self.index.add(entries, now=self.clock.now())
        assert await self.cases.insert_new(records) == []


def classified(
    *,
    cid: str = CID,
    kind: Kind = Kind.COMPLAINT,
    severity: Severity | None = Severity.P4,
    duplicate_of: str | None = None,
    complainant_key: str | None = None,
) -> ComplaintClassified:
    """A classifier decision received at RECEIVED."""
    return decision(
        cid,
        at=RECEIVED,
        channel=Channel.HOTLINE,
        kind=kind,
        severity=severity,
        duplicate_of=duplicate_of,
        complainant_key=complainant_key,
    )


def receipt(
    *,
    cid: str = CID,
    audience: Audience = Audience.CUSTOMER,
    template: str = "acknowledgement",
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
    acknowledgement: bool = True,
    at: datetime = RECEIVED,
) -> NotificationSent:
    """A notifier receipt (by default: CID's acknowledgement, delivered at RECEIVED)."""
    key = f"{cid}:ack:-:-:{audience.value}"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=cid,
        audience=audience,
        channel="sms",
        template=template,
        acknowledgement=acknowledgement,
        status=status,
        attempts=1,
    )
    return NotificationSent.build(
        data=data, subject=cid, source="/complaints/notifier", time=at, cause=key
    )


def clock_entry(
    key: str = "acknowledge:1",
    *,
    percents: Sequence[int] = (50, 100),
    minutes: int = 60,
) -> ClockEntry:
    """A hand-made acknowledge clock started at RECEIVED."""
    due = RECEIVED + timedelta(minutes=minutes)
    return ClockEntry(
        key=key,
        clock=ClockName.ACKNOWLEDGE,
        occurrence=int(key.rpartition(":")[2]),
        severity="P4",
        started_at=RECEIVED,
        due_at=due,
        thresholds=tuple(
            Threshold(p, RECEIVED + timedelta(minutes=minutes * p / 100), (Audience.HANDLER,))
            for p in percents
        ),
        policy_version="test",
        calendar_version="test",
    )


def cid_n(n: int) -> str:
    return f"CP20261124-{n:010d}"


async def on_receipts(rig: Rig, *events: NotificationSent) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.NOTIFICATION_SENT) for e in events]
    assert await deliver(RECEIPTS, rig.receipts.on_receipts, messages) == []


def notifier_row(sent: NotificationSent) -> CaseDelivery:
    """The notifier's stored row behind a receipt, as the case API reads it (CASE_DELIVERIES)."""
    data = sent.data
    return CaseDelivery.model_validate(
        {
            "_id": data.notification_id,
            "complaint_id": data.complaint_id,
            "audience": data.audience.value,
            "template": data.template,
            "channel": data.channel,
            "status": data.status.value,
            "claimed_at": sent.time,
            "completed_at": sent.time,
        }
    )


A = LifecycleAction
S = CaseState
KEYS = {role: f"{role.value}-key-0123456789abcdef" for role in Role}
# The handler and the lead work in billing (where FIELDS dispatches); hand-overs go to network,
# whose staff answer them (`network_key`).
DEPARTMENT = {
    Role.HANDLER: "billing",
    Role.LEAD: "billing",
    Role.MANAGER: None,
    Role.AUDITOR: None,
}
STAFF = {
    KEYS[role]: StaffKey(staff_id=f"{role.value}-01", role=role, department=DEPARTMENT[role])
    for role in Role
}
NETWORK_KEY = "network-lead-key-0123456789abcdef"
STAFF[NETWORK_KEY] = StaffKey(staff_id="network-lead-01", role=Role.LEAD, department="network")
# Fields that satisfy every action's own requirements.
FIELDS: dict[LifecycleAction, dict[str, Any]] = {
    A.ASSIGNED: {"assignee": "handler-01", "department": "billing"},
    A.AWAITING_CUSTOMER: {"reason": "waiting for the customer's bill"},
    A.RESOLVED: {"result": "refunded the overcharge"},
    A.CALLBACK_DONE: {"satisfaction": "satisfied"},
    A.CLOSED: {"verdict": "upheld", "root_cause": "billing rule"},
    A.REOPENED: {"reason": "the fault is back"},
    A.WITHDRAWN: {"reason": "the customer withdrew"},
    A.REGRADED: {
        "regrade": {
            "kind": "complaint",
            "category": "billing/overcharge",
            "severity": "P2",
            "flags": ["over_level"],
        },
        "reason": "the customer already went to 12315",
    },
    A.COMPLEXITY_MARKED: {"complex": True},
    A.CALENDAR_REPLANNED: {"calendar_version": CALENDAR.version},
    A.HANDOVER_REQUESTED: {"department": "network", "reason": "line fault: exchange-side test"},
    A.HANDOVER_ACCEPTED: {"department": "network"},
    A.HANDOVER_DECLINED: {"department": "network", "reason": "not a line fault"},
    A.DEADLINE_EXTENDED: {
        "clock": "resolution",
        "extend_by_hours": 8,
        "reason": "needs the vendor",
        "approver": "manager-01",
    },
}
# Who records each action in the journeys below.
ACTOR = {
    A.REGRADED: Role.LEAD,
    A.COMPLEXITY_MARKED: Role.LEAD,
    A.ASSIGNED: Role.LEAD,
    A.CLOSED: Role.LEAD,
    A.REOPENED: Role.LEAD,
    A.DEADLINE_EXTENDED: Role.MANAGER,
    A.WITHDRAWN: Role.LEAD,  # the customer's request, confirmed by a lead (issue 20)
    A.CALENDAR_REPLANNED: Role.MANAGER,
}


class ApiRig:
    """The case API over a lifecycle rig; `consume()` applies what the API published."""

    def __init__(self, rig: Rig, transport: httpx.AsyncBaseTransport) -> None:
        self.rig = rig
        self.transport = transport  # the API in process
        self.client = httpx.AsyncClient(transport=transport, base_url="http://sla")
        self.published: list[CaseActionTaken] = []
        self.contacts = InMemoryContactDirectory()  # the API's, once `case_api` built it
        self.access_log = InMemoryAccessLog()
        self.deliveries = InMemoryCaseDeliveries()  # the notifier's rows the case API reads
        self.failures = 0
        self.counted: list[LifecycleAction] = []  # what the desk counted as published
        self._ids = 0

    async def delivered(self, *events: NotificationSent) -> None:
        """The notifier stored these outcomes and the SLA took their receipts."""
        self.deliveries.put(*(notifier_row(e) for e in events))
        await on_receipts(self.rig, *events)

    async def publish(self, events: Sequence[Event]) -> None:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("kafka unavailable")
        for event in events:
            assert isinstance(event, CaseActionTaken)
            self.published.append(event)

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
        if action in {A.HANDOVER_ACCEPTED, A.HANDOVER_DECLINED} and role is None:
            key = NETWORK_KEY  # the receiving department answers a hand-over
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
        assert await deliver(LIFECYCLE, self.rig.actions.on_lifecycle, messages) == []

    async def act(self, action: LifecycleAction, **fields: Any) -> dict[str, Any]:
        """Post, apply, and read the applied result from the Location."""
        answer = await self.post(action, **(FIELDS.get(action, {}) | fields))
        assert answer.status_code == 202, answer.text
        await self.consume()
        # Read as a manager: who may read which case is the access tests' business.
        applied = await self.get(answer.headers["location"], Role.MANAGER)
        assert applied.status_code == 200, applied.text
        body: dict[str, Any] = applied.json()
        return body

    def put_case(self, state: CaseState, **fields: Any) -> None:
        """Store the case directly in `state` (for state-machine checks)."""
        record = self.rig.memory.records[CID]
        case = replace(Case(state=state, severity=Severity.P4), **fields)
        self.rig.memory.records[CID] = replace(record, case=case, version=record.version + 1)


@contextlib.asynccontextmanager
async def case_api(rig: Rig) -> AsyncIterator[ApiRig]:
    """A classified P4 complaint and the case API in front of it."""
    await rig.classified(classified())
    rig.publisher.events.clear()
    holder: list[ApiRig] = []

    async def publish(events: Sequence[Event]) -> None:
        await holder[0].publish(events)

    def counted(action: LifecycleAction) -> None:
        holder[0].counted.append(action)

    desk = CaseDesk(
        cases=rig.cases,
        policy=POLICY,
        calendar=CALENDAR,
        publish=publish,
        clock=rig.clock,
        published=counted,
    )
    contacts, access_log = InMemoryContactDirectory(), InMemoryAccessLog()
    deliveries = InMemoryCaseDeliveries()
    queries = CaseQueries(
        cases=rig.cases, calendar=CALENDAR, contacts=contacts, deliveries=deliveries
    )
    app = create_case_api(desk=desk, queries=queries, staff=STAFF, clock=rig.clock)
    reveal = RevealContact(
        cases=rig.cases, contacts=contacts, access_log=access_log, clock=rig.clock
    )
    add_privacy_routes(app, reveal)
    holder.append(ApiRig(rig, httpx.ASGITransport(app=app)))
    holder[0].deliveries = deliveries
    holder[0].contacts, holder[0].access_log = contacts, access_log
    async with holder[0].client:
        yield holder[0]


def incident_closed(
    incident_id: str,
    members: list[str],
    *,
    at: datetime,
    resolution: str | None = "基站电源已恢复",
) -> IncidentChanged:
    """The classifier's signed-off `closed` change of INCIDENT_ID at AT, naming MEMBERS."""
    return incident(
        IncidentChange.CLOSED,
        members,
        incident_id=incident_id,
        sequence=4,
        at=at,
        cause="c4",
        opened_with=3,
        first_seen=RECEIVED,
        last_seen=RECEIVED + timedelta(minutes=5),
        resolution=resolution,
        closed_at=at,
    )
