"""Builders shared by the notifier tests: the telecom pack, events, and a notifier on fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from prometheus_client import CollectorRegistry

from contracts import (
    ActionRejection,
    Audience,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseState,
    CaseStateChanged,
    CaseTransition,
    Channel,
    ClockName,
    ComplaintClassified,
    DeadlineView,
    Event,
    Flag,
    FlagName,
    IncidentChange,
    IncidentChanged,
    IncidentCounts,
    Kind,
    LifecycleAction,
    MessageDeadLettered,
    NotificationSent,
    Reason,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
    Topic,
    Verdict,
)
from notifier.adapters.memory import (
    InMemoryCaseBook,
    InMemoryContactBook,
    InMemoryIncidentBook,
    InMemoryNotificationLog,
    InMemoryStaffDirectory,
)
from notifier.channels.base import Channel as ChannelPort
from notifier.channels.base import Message
from notifier.dispatcher import Dispatcher
from notifier.domain import Intent, NotifierPolicy, Planner, Router, StaffEntry, parse_directory
from notifier.handlers import CLASSIFIED, INCIDENTS, LIFECYCLE, SLA
from notifier.metrics import NotifierMetrics
from notifier.ports import NotificationLog, Outcome
from notifier.sender import RetryPolicy, Sender
from notifier.service import Notifier
from servicekit.bodies import deliver
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from tests._builders.decisions import decision
from tests._builders.doubles import FlakyPublisher
from tests._builders.incidents import incident

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai: outside quiet hours
NIGHT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
MORNING = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai, the end of quiet hours
CID = "CP20261124-0000000001"
CID2 = "CP20261124-0000000002"
PHONE = "+8613812345678"
PROMISED = "2026-11-27 18:00"


E = TypeVar("E", bound=Event)


def once(events: Sequence[E]) -> list[E]:
    """Each event id once; an event published again (redelivery, ADR 0003) must be identical."""
    seen: dict[object, E] = {}
    for event in events:
        assert seen.setdefault(event.id, event) == event, f"{event.id} republished changed"
    return list(seen.values())


def pack_raw(pack: str = "telecom") -> dict[str, Any]:
    """A pack's notifier.yaml as parsed YAML."""
    with (POLICIES / pack / "notifier.yaml").open(encoding="utf-8") as handle:
        raw: dict[str, Any] = yaml.safe_load(handle)
    return raw


def pack_policy(pack: str = "telecom") -> NotifierPolicy:
    """A pack's notifier policy, as the app loads it."""
    return NotifierPolicy.from_mapping(pack_raw(pack))


def pack_directory(pack: str = "telecom") -> list[StaffEntry]:
    """A pack's staff directory."""
    with (POLICIES / pack / "staff.yaml").open(encoding="utf-8") as handle:
        return parse_directory(yaml.safe_load(handle)["recipients"])


class FakeChannel:
    """Records messages; fails with the queued errors first."""

    def __init__(self, name: str, errors: Sequence[Exception] = ()) -> None:
        self.name = name
        self.errors = list(errors)
        self.calls = 0
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)


class FailingCompleteLog(InMemoryNotificationLog):
    """A log whose next `failures` completions fail, as when MongoDB goes away or the process
    dies between sending and recording."""

    def __init__(self, reason: str = "mongo unavailable") -> None:
        super().__init__()
        self.failures = 0
        self.reason = reason

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        if self.failures:
            self.failures -= 1
            raise TimeoutError(self.reason)
        return await super().complete(outcomes, now=now)


class Rig:
    """A notifier on fake channels, in-memory ports and a fake clock."""

    def __init__(
        self,
        *,
        sms_errors: Sequence[Exception] = (),
        phones: Mapping[str, str] | None = None,
        emails: Mapping[str, str] | None = None,
        policy: NotifierPolicy | None = None,
        directory: Sequence[StaffEntry] | None = None,
        channels: Mapping[str, ChannelPort] | None = None,
        log: NotificationLog | None = None,
        clock: FakeClock | None = None,
        publisher: FlakyPublisher[Event] | None = None,
    ) -> None:
        self.sms = FakeChannel("sms", sms_errors)
        self.webhook = FakeChannel("webhook")
        self.log = log or InMemoryNotificationLog()
        self.cases = InMemoryCaseBook()
        self.incidents = InMemoryIncidentBook()
        self.publisher = publisher or FlakyPublisher(Event)
        self.clock = clock or FakeClock(NOW + timedelta(seconds=2))
        self.registry = CollectorRegistry()
        self.policy = policy or pack_policy()
        self.sleeps: list[float] = []
        metrics = NotifierMetrics(self.registry)
        self.sender = Sender(
            channels=dict(channels) if channels else {"sms": self.sms, "webhook": self.webhook},
            templates=self.policy.templates,
            clock=self.clock,
            metrics=metrics,
            retry=RetryPolicy(max_attempts=4, base_seconds=0.5, cap_seconds=4.0),
            sleep=self._sleep,
        )
        self.notifier = Notifier(
            router=Router(self.policy),
            log=self.log,
            contacts=InMemoryContactBook(
                {CID: PHONE} if phones is None else dict(phones), dict(emails or {})
            ),
            staff=InMemoryStaffDirectory(pack_directory() if directory is None else directory),
            cases=self.cases,
            sender=self.sender,
            planner=Planner(self.policy),
            publish=self.publisher,
            clock=self.clock,
            metrics=metrics,
            incidents=self.incidents,
        )
        self.dispatcher = Dispatcher(
            notifier=self.notifier, log=self.log, clock=self.clock, lease=timedelta(minutes=2)
        )
        self._offset = 0

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    @property
    def receipts(self) -> list[NotificationSent]:
        """Published receipts, in order, each once (a republished one must be unchanged)."""
        return once([e for e in self.publisher.events if isinstance(e, NotificationSent)])

    @property
    def dead_letters(self) -> list[MessageDeadLettered]:
        """Published dead letters, in order, each once (a republished one must be unchanged)."""
        return once([e for e in self.publisher.events if isinstance(e, MessageDeadLettered)])

    def metric(self, name: str, **labels: str) -> float:
        """A sample of the rig's registry (0 when absent)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def inbound(self, event: Event, topic: Topic) -> Inbound:
        """A consumed record carrying `event`."""
        self._offset += 1
        return Inbound(
            topic.value, 0, self._offset, CID.encode(), event.model_dump_json().encode(), 0
        )

    async def on_sla(self, *events: SlaChanged) -> None:
        """Feed SLA events; none may be rejected."""
        messages = [self.inbound(e, Topic.SLA) for e in events]
        assert await deliver(SLA, self.notifier.on_sla, messages) == []

    async def on_classified(self, *events: ComplaintClassified) -> None:
        """Feed classifications; none may be rejected."""
        messages = [self.inbound(e, Topic.CLASSIFIED) for e in events]
        assert await deliver(CLASSIFIED, self.notifier.on_classified, messages) == []

    async def on_incidents(self, *events: Event) -> None:
        """Feed incident events; none may be rejected."""
        messages = [self.inbound(e, Topic.INCIDENTS) for e in events]
        assert await deliver(INCIDENTS, self.notifier.on_incidents, messages) == []

    async def on_lifecycle(self, *events: Event) -> None:
        """Feed lifecycle events; none may be rejected."""
        messages = [self.inbound(e, Topic.LIFECYCLE) for e in events]
        assert await deliver(LIFECYCLE, self.notifier.on_lifecycle, messages) == []


def sla_set(cid: str = CID, *, severity: Severity = Severity.P4, at: datetime = NOW) -> SlaChanged:
    """Clocks set for `cid`, resolution promised for PROMISED."""
    change = SlaChange(
        complaint_id=cid,
        event=SlaEventKind.SET,
        severity=severity,
        deadlines=[
            DeadlineView(
                clock=ClockName.ACKNOWLEDGE,
                due_at=at + timedelta(hours=1),
                due_at_local="2026-11-24 10:30",
            ),
            DeadlineView(
                clock=ClockName.RESOLUTION,
                due_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
                due_at_local=PROMISED,
            ),
        ],
        policy_version="test",
        calendar_version="test",
    )
    return SlaChanged.build(
        data=change, subject=cid, source="/complaints/sla", time=at, cause="clocks-started"
    )


def sla_alert(
    event: SlaEventKind,
    *,
    cid: str = CID,
    clock: ClockName = ClockName.ACKNOWLEDGE,
    threshold: int = 100,
    audiences: Sequence[Audience] = (Audience.HANDLER, Audience.TEAM_LEAD),
    severity: Severity = Severity.P4,
    previous: Severity | None = None,
    at: datetime = NOW,
) -> SlaChanged:
    """A warning, breach, escalation or upgrade of one clock of `cid`."""
    change = SlaChange(
        complaint_id=cid,
        event=event,
        severity=severity,
        previous_severity=previous,
        clock=clock,
        threshold=threshold,
        due_at=NOW + timedelta(hours=1),
        audiences=list(audiences),
        policy_version="test",
        calendar_version="test",
    )
    return SlaChanged.build(
        data=change,
        subject=cid,
        source="/complaints/sla",
        time=at,
        cause=f"{cid}:{clock.value}@{threshold}:{event.value}",
    )


def classified(
    kind: Kind,
    *,
    cid: str = CID,
    severity: Severity | None = Severity.P4,
    flags: Sequence[FlagName] = (),
    reasons: Sequence[str] = (),
) -> ComplaintClassified:
    """A classification decision for `cid`, explained by the classifier rules `reasons`."""
    flagged = [Flag(name=f) for f in flags]
    explained = [Reason(rule=r, effect=f"kind={kind.value}") for r in reasons]
    return decision(
        cid,
        at=NOW,
        channel=Channel.SMS,
        kind=kind,
        severity=severity,
        flags=flagged,
        explanation=explained,
    )


def state_changed(
    action: LifecycleAction,
    *,
    cid: str = CID,
    action_id: str = "a-1",
    to_state: CaseState = CaseState.IN_PROGRESS,
    severity: Severity = Severity.P4,
    assignee: str | None = None,
    department: str | None = None,
    clock: ClockName | None = None,
    at: datetime = NOW,
    verdict: Verdict | None = None,
    reason: str | None = None,
) -> CaseStateChanged:
    """The SLA service accepted a staff action."""
    data = CaseTransition(
        complaint_id=cid,
        action=action,
        action_id=action_id,
        actor="staff-1",
        occurred_at=at,
        from_state=CaseState.ACKNOWLEDGED,
        to_state=to_state,
        severity=severity,
        assignee=assignee,
        department=department,
        clock=clock,
        verdict=verdict,
        reason=reason,
    )
    return CaseStateChanged.build(
        data=data, subject=cid, source="/complaints/sla", time=at, cause=action_id
    )


def action_taken(action: LifecycleAction, *, cid: str = CID) -> CaseActionTaken:
    """A staff system's request (not yet accepted)."""
    data = CaseAction(
        complaint_id=cid, action=action, action_id="req-1", actor="crm", occurred_at=NOW
    )
    return CaseActionTaken.build(data=data, subject=cid, source="/crm", time=NOW, cause="req-1")


def action_rejected(action: LifecycleAction, *, cid: str = CID) -> CaseActionRejected:
    """The SLA service's refusal of an illegal action."""
    data = ActionRejection(
        complaint_id=cid,
        action=action,
        action_id="req-2",
        reason="illegal_transition",
        detail="not allowed",
    )
    return CaseActionRejected.build(
        data=data, subject=cid, source="/complaints/sla", time=NOW, cause="req-2"
    )


def incident_opened(member_ids: Sequence[str]) -> IncidentChanged:
    """A wide-area no-signal incident opened with these members."""
    return incident(
        IncidentChange.OPENED,
        member_ids,
        incident_id="network/no_signal|*|20261124T0130+0000",
        sequence=1,
        at=NOW,
        counts=IncidentCounts(total=len(member_ids)),
        added_ids=list(member_ids),
    )


def ack_intent(*, promised: str = PROMISED, trigger_time: datetime = NOW) -> Intent:
    """The customer's acknowledgement of CID, as the planner would make it."""
    return Intent(
        key=f"{CID}:ack:-:-:customer",
        complaint_id=CID,
        audience=Audience.CUSTOMER,
        template="acknowledgement",
        trigger_time=trigger_time,
        acknowledgement=True,
        context={"case": CID, "promised": promised},
    )
