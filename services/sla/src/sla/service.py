"""SLA use-case: start every clock of a newly classified complaint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from contracts import (
    Audience,
    CaseState,
    ClassifiedComplaint,
    ComplaintClassified,
    DeadlineView,
    Event,
    Kind,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
)
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection
from servicekit.plausible import decode_plausible
from sla.domain import (
    BusinessCalendar,
    Deadline,
    SlaPolicy,
    deadlines_at_receipt,
    severity_upgrade_due,
)
from sla.metrics import SlaMetrics
from sla.ports import CaseFacts, CaseStore, DeadlineStore, StoredDeadline, Threshold

Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/sla"
SHANGHAI_DISPLAY = "%Y-%m-%d %H:%M"
FALLBACK_MARK = "weekends-only fallback "  # how BusinessCalendar.version_between names them


def deadline_id(complaint_id: str, clock: str, occurrence: int, round_: int = 0) -> str:
    """`<complaint>:<clock>:<occurrence>`; clocks restarted later (reopen) carry their round."""
    if round_ == 0:
        return f"{complaint_id}:{clock}:{occurrence}"
    return f"{complaint_id}:{clock}:r{round_}.{occurrence}"


def stored(
    complaint_id: str, deadline: Deadline, severity: str, *, repeat: bool = False, round_: int = 0
) -> StoredDeadline:
    """The scheduler's form of a domain deadline."""
    return StoredDeadline(
        deadline_id=deadline_id(complaint_id, deadline.clock.value, deadline.occurrence, round_),
        complaint_id=complaint_id,
        clock=deadline.clock,
        occurrence=deadline.occurrence,
        severity=severity,
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        thresholds=tuple(
            Threshold(percent, at, deadline.audiences.get(percent, ()))
            for percent, at in sorted(deadline.thresholds.items())
        ),
        policy_version=deadline.policy_version,
        calendar_version=deadline.calendar_version,
        unit=deadline.unit,
        repeat=repeat,
        round=round_,
    )


def facts_of(data: ClassifiedComplaint) -> CaseFacts:
    """What the SLA service keeps from a classification."""
    return CaseFacts(
        complaint_id=data.complaint_id,
        received_at=data.received_at,
        channel=data.channel,
        flags=tuple(f.name for f in data.flags),
        severity_at_receipt=data.severity,
        referral_due_at=data.referral_due_at,
        complainant_key=data.complainant_key,
        category=data.category,
    )


def _severity(data: ClassifiedComplaint) -> Severity:
    if data.severity is None:
        raise ValueError(f"{data.complaint_id}: a complaint without severity gets no clocks")
    return data.severity


def state_without_clocks(data: ClassifiedComplaint) -> CaseState | None:
    """Side states that never get complaint clocks."""
    if data.duplicate_of:
        return CaseState.DUPLICATE
    if data.kind is Kind.ENQUIRY:
        return CaseState.ENQUIRY
    if data.kind is Kind.OUT_OF_SCOPE:
        return CaseState.ROUTED
    return None


@dataclass
class ClockKeeper:
    """Starts clocks for classified complaints and stops them when their goal is reached."""

    policy: SlaPolicy
    calendar: BusinessCalendar
    deadlines: DeadlineStore
    cases: CaseStore
    publish: Publish
    clock: Clock
    metrics: SlaMetrics
    wake: Callable[[], None]

    async def on_classified(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Compute, store and announce every clock of each new complaint."""
        decisions, rejections = decode_plausible(messages, ComplaintClassified)
        records: dict[str, tuple[CaseFacts, CaseState, SlaChanged | None]] = {}
        new: list[StoredDeadline] = []
        for data in (decision.data for decision in decisions):
            if data.complaint_id in records:
                continue
            side_state = state_without_clocks(data)
            if side_state is not None or data.severity is None:
                records[data.complaint_id] = (
                    facts_of(data),
                    side_state or CaseState.CLASSIFIED,
                    None,
                )
                continue
            deadlines = self._deadlines(data)
            new += deadlines
            records[data.complaint_id] = (
                facts_of(data),
                CaseState.CLASSIFIED,
                self._set_event(data, deadlines),
            )
        await self.deadlines.add(new)
        self._count_fallbacks(new)
        await self.cases.save_started(list(records.values()))
        with_clocks = [cid for cid, (_, _, event) in records.items() if event is not None]
        pending = await self.cases.unpublished(with_clocks)
        await self.publish(pending)
        await self.cases.mark_published([e.data.complaint_id for e in pending])
        for event in pending:
            for view in event.data.deadlines:
                self.metrics.deadlines_set.labels(view.clock.value, event.data.severity.value).inc()
        if new:
            self.wake()
        return rejections

    def _count_fallbacks(self, new: Sequence[StoredDeadline]) -> None:
        """Deadlines computed on the weekends-only fallback (a year without holiday data)."""
        for deadline in new:
            _, _, years = deadline.calendar_version.partition(FALLBACK_MARK)
            for year in filter(None, years.split(",")):
                self.metrics.calendar_fallback.labels(year.strip()).inc()

    def _deadlines(self, data: ClassifiedComplaint) -> list[StoredDeadline]:
        severity = _severity(data)
        clocks = deadlines_at_receipt(
            received_at=data.received_at,
            severity=severity,
            channel=data.channel,
            referral_due_at=data.referral_due_at,
            flags=[f.name for f in data.flags],
            policy=self.policy,
            calendar=self.calendar,
        )
        result = [
            stored(
                data.complaint_id,
                d,
                severity.value,
                repeat=bool(
                    (spec := self.policy.spec(clock=d.clock, severity=severity)) and spec.repeat
                ),
            )
            for d in clocks
        ]
        for at, target in severity_upgrade_due(
            received_at=data.received_at, severity=severity, policy=self.policy
        ):
            result.append(
                StoredDeadline(
                    deadline_id=f"{data.complaint_id}:upgrade:{target.value}",
                    complaint_id=data.complaint_id,
                    clock=None,
                    occurrence=1,
                    severity=severity.value,
                    started_at=data.received_at,
                    due_at=at,
                    thresholds=(Threshold(100, at, (Audience.HANDLER, Audience.TEAM_LEAD)),),
                    policy_version=self.policy.version,
                    calendar_version=self.calendar.version,
                    upgrade_to=target.value,
                )
            )
        return result

    def _set_event(
        self, data: ClassifiedComplaint, deadlines: Sequence[StoredDeadline]
    ) -> SlaChanged:
        severity = _severity(data)
        views = [
            DeadlineView(
                clock=d.clock,
                due_at=d.due_at.astimezone(UTC),
                due_at_local=self.calendar.local(d.due_at).strftime(SHANGHAI_DISPLAY),
                occurrence=d.occurrence,
            )
            for d in deadlines
            if d.clock is not None
        ]
        change = SlaChange(
            complaint_id=data.complaint_id,
            event=SlaEventKind.SET,
            severity=severity,
            deadlines=views,
            policy_version=self.policy.version,
            calendar_version=self.calendar.version,
        )
        return SlaChanged.build(
            data=change,
            subject=data.complaint_id,
            source=SOURCE,
            time=self.clock.now(),
            cause="clocks-started",
        )
