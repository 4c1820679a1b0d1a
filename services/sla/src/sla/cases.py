"""Lifecycle use-case: apply staff actions to cases and their clocks (DOMAIN.md §5–§6).

Each action from `complaints.lifecycle.v1` goes through the pure state machine. An accepted action
changes the clocks first (every change idempotent: stops are conditional, starts insert-if-absent,
re-plans applied once per action id), then stores the case with its events in one compare-and-set
write (the commit point), then publishes. A refused action is answered with `CaseActionRejected`.
A redelivered action finds its id in the history and only republishes what is still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from contracts import (
    ActionRejection,
    Audience,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseState,
    CaseStateChanged,
    CaseTransition,
    ClockName,
    DeliveryStatus,
    Event,
    LifecycleAction,
    NotificationSent,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
    Verdict,
)
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection, decode
from servicekit.plausible import decode_plausible, implausible_time, out_of_range
from sla.domain import (
    TERMINAL,
    BusinessCalendar,
    Case,
    Deadline,
    PauseCredit,
    Refusal,
    SlaPolicy,
    Transition,
    apply_action,
    complainant_review_needed,
    extend_deadline,
    next_occurrence,
    pause_cap_ends_at,
    shift_for_pause,
    start_clocks,
)
from sla.metrics import SlaMetrics
from sla.ports import (
    CaseChange,
    CaseRecord,
    CaseStore,
    DeadlineStore,
    ReceiptSummary,
    StoredDeadline,
    Threshold,
)
from sla.service import stored

log = logging.getLogger(__name__)
Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/sla"
COMMIT_ATTEMPTS = 10
# Stops caused by these actions end a clock without reaching its goal.
_CANCELLING = frozenset(
    {LifecycleAction.CLOSED, LifecycleAction.WITHDRAWN, LifecycleAction.REOPENED}
)
# A case in these states is past resolution: repeating clocks stop re-arming.
_SETTLED = TERMINAL | {CaseState.RESOLVED, CaseState.CALLBACK_DONE}
ACTION_TYPE = CaseActionTaken.event_type
# How far before the complaint's receipt an action may be dated (clocks of staff systems drift).
CLOCK_SKEW = timedelta(minutes=10)


class CaseBusyError(RuntimeError):
    """A case kept changing under the compare-and-set loop; the batch is retried."""


def as_domain(d: StoredDeadline) -> Deadline:
    """The domain form of a stored clock deadline (for pause shifts and extensions)."""
    assert d.clock is not None  # noqa: S101 - upgrades are never shifted
    return Deadline(
        clock=d.clock,
        occurrence=d.occurrence,
        started_at=d.started_at,
        due_at=d.due_at,
        thresholds={t.percent: t.at for t in d.thresholds},
        audiences={t.percent: t.audiences for t in d.thresholds},
        unit=d.unit,  # type: ignore[arg-type]
        policy_version=d.policy_version,
        calendar_version=d.calendar_version,
    )


def with_plan(d: StoredDeadline, plan: Deadline) -> StoredDeadline:
    """`d` with the due and threshold times of `plan` (audiences kept)."""
    audiences = {t.percent: t.audiences for t in d.thresholds}
    return replace(
        d,
        due_at=plan.due_at,
        thresholds=tuple(
            Threshold(pct, at, audiences.get(pct, ()))
            for pct, at in sorted(plan.thresholds.items())
        ),
        calendar_version=plan.calendar_version,
    )


def _decode_actions(messages: Sequence[Inbound]) -> tuple[list[CaseActionTaken], list[Rejection]]:
    """Staff actions of a lifecycle batch; this service's own answers on the topic are skipped."""
    actions: list[Inbound] = []
    rejections: list[Rejection] = []
    for message in messages:
        try:
            kind = Event.model_validate_json(message.value).type
        except ValidationError as exc:
            detail = f"not a lifecycle event: {exc.error_count()} validation errors"
            rejections.append(Rejection(message, "invalid_event", detail))
            continue
        if kind == ACTION_TYPE:
            actions.append(message)
        elif kind not in {CaseActionRejected.event_type, CaseStateChanged.event_type}:
            detail = f"unknown type {kind[:60]!r}"  # never echo a hostile type whole
            rejections.append(Rejection(message, "invalid_event", detail))
    decoded, invalid = decode(actions, CaseActionTaken)
    return decoded, rejections + invalid


def time_refusal(record: CaseRecord, action: CaseAction) -> Refusal | None:
    """Refuse an action dated where none can be: outside the pipeline's time range (the clock
    arithmetic would overflow), or before the complaint was received."""
    if (path := implausible_time(action)) is not None:
        return Refusal("implausible_time", out_of_range(path), record.case.state)
    if action.occurred_at < record.facts.received_at - CLOCK_SKEW:
        detail = "the action is dated before the complaint was received"
        return Refusal("before_receipt", detail, record.case.state)
    return None


def _summary(sent: NotificationSent) -> ReceiptSummary:
    receipt = sent.data
    return ReceiptSummary(
        notification_id=receipt.notification_id,
        complaint_id=receipt.complaint_id,
        audience=receipt.audience,
        channel=receipt.channel,
        template=receipt.template,
        status=receipt.status,
        at=sent.time,
    )


@dataclass
class CaseKeeper:
    """Drives each case through its lifecycle and keeps its clocks in step."""

    policy: SlaPolicy
    calendar: BusinessCalendar
    deadlines: DeadlineStore
    cases: CaseStore
    publish: Publish
    clock: Clock
    metrics: SlaMetrics
    wake: Callable[[], None]

    async def on_lifecycle(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Apply each staff action in order; publish what was accepted and what was refused."""
        actions, rejections = _decode_actions(messages)
        answers: list[Event] = []
        for event in actions:
            refusal = await self._apply(event.data, answer=True)
            if refusal is not None:
                answers.append(refusal)
        await self.publish(answers)
        await self._flush([e.data.complaint_id for e in actions])
        return rejections

    async def on_receipts(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Keep every receipt with its case; a delivered customer acknowledgement acknowledges
        the case (and meets its clock)."""
        receipts, rejections = decode_plausible(messages, NotificationSent)
        await self.cases.record_receipts([_summary(sent) for sent in receipts])
        acknowledging = [
            sent
            for sent in receipts
            if sent.data.audience is Audience.CUSTOMER
            and sent.data.status is DeliveryStatus.DELIVERED
            and sent.data.template.startswith("acknowledg")
        ]
        await self.cases.prefetch([sent.data.complaint_id for sent in acknowledging])
        touched: list[str] = []
        for sent in acknowledging:
            receipt = sent.data
            action = CaseAction(
                complaint_id=receipt.complaint_id,
                action=LifecycleAction.ACKNOWLEDGED,
                action_id=f"receipt:{receipt.notification_id}",
                actor="notifier",
                occurred_at=sent.time,
            )
            await self._apply(action, answer=False)
            touched.append(receipt.complaint_id)
        await self._flush(touched)
        return rejections

    async def _flush(self, complaint_ids: Sequence[str]) -> None:
        pending = await self.cases.pending_events(complaint_ids)
        await self.publish(pending)
        await self.cases.events_published(pending)

    async def _apply(self, action: CaseAction, *, answer: bool) -> CaseActionRejected | None:
        """Apply one action (compare-and-set, retried on a concurrent change)."""
        for _ in range(COMMIT_ATTEMPTS):
            record = await self.cases.load(action.complaint_id)
            if record is None:
                detail = "no classified complaint with this id is known to the SLA service"
                return self._refused(action, Refusal("unknown_case", detail, CaseState.RECEIVED))
            if any(h.action_id == action.action_id for h in record.case.history):
                return None  # applied before: idempotent on the client's action id
            outcome = time_refusal(record, action) or apply_action(
                record.case, action, policy=self.policy, calendar=self.calendar
            )
            if isinstance(outcome, Refusal):
                self.metrics.lifecycle.labels(action.action.value, "refused").inc()
                if not answer:
                    return None
                await self.cases.record_refusal(
                    action.complaint_id,
                    action.action_id,
                    reason=outcome.reason,
                    detail=outcome.detail,
                )
                return self._refused(action, outcome)
            change = await self._effects(record, action, outcome)
            if await self.cases.commit(record, outcome.case, change):
                self.metrics.lifecycle.labels(action.action.value, "accepted").inc()
                return None
        raise CaseBusyError(action.complaint_id)

    def _refused(self, action: CaseAction, refusal: Refusal) -> CaseActionRejected:
        data = ActionRejection(
            complaint_id=action.complaint_id,
            action=action.action,
            action_id=action.action_id,
            reason=refusal.reason,
            detail=refusal.detail,
            state=refusal.state.value,
        )
        return CaseActionRejected.build(
            data=data,
            subject=action.complaint_id,
            source=SOURCE,
            time=self.clock.now(),
            cause=f"{action.action_id}@rejected",
        )

    async def _effects(
        self, record: CaseRecord, action: CaseAction, step: Transition
    ) -> CaseChange:
        """Change the clocks as the transition says; return what the commit stores."""
        events: list[Event] = []
        if step.pause is not None:
            events += await self._resume(record, action, step.pause)
        if step.pauses:
            events += await self._pause(record, action, step.case)
        if step.extension is not None:
            events += await self._extend(record, action, *step.extension)
        status = "cancelled" if action.action in _CANCELLING else "met"
        if step.stops:
            events += await self._stop(record, action, step.stops, status=status)
        if ClockName.RESOLUTION in step.stops or action.action in _CANCELLING:
            upgrades = await self.deadlines.stop_clocks(
                action.complaint_id, [None], status="cancelled", at=action.occurred_at
            )
            await self.deadlines.announced([d.deadline_id for d in upgrades])
        if step.starts:
            await self._start(record, action, step)
        if action.action is LifecycleAction.CONTACTED:
            events += await self._progress_given(record, action)
        review = await self._review(record, action)
        events.append(self._state_event(record, action, step, review_needed=review is not None))
        return CaseChange(
            events=tuple(events),
            resolved_at=action.occurred_at if step.to_state is CaseState.RESOLVED else None,
            closed_at=action.occurred_at if step.to_state is CaseState.CLOSED else None,
            pause=(step.pause.paused_at, step.pause.credited_until) if step.pause else None,
            review_reason=review,
            assignment=(
                (action.assignee, action.department)
                if action.action is LifecycleAction.ASSIGNED
                else None
            ),
        )

    def _sla_event(
        self,
        record: CaseRecord,
        action: CaseAction,
        kind: SlaEventKind,
        *,
        deadline: StoredDeadline | None = None,
    ) -> SlaChanged:
        data = SlaChange(
            complaint_id=action.complaint_id,
            event=kind,
            severity=record.case.severity,
            clock=deadline.clock if deadline else None,
            occurrence=deadline.occurrence if deadline else 1,
            due_at=deadline.due_at if deadline else None,
            policy_version=deadline.policy_version if deadline else self.policy.version,
            calendar_version=deadline.calendar_version if deadline else self.calendar.version,
            fired_at=action.occurred_at,
        )
        target = deadline.deadline_id if deadline else action.complaint_id
        return SlaChanged.build(
            data=data,
            subject=action.complaint_id,
            source=SOURCE,
            time=action.occurred_at,
            cause=f"{target}@{kind.value}@{action.action_id}",
        )

    async def _running_clocks(self, complaint_id: str) -> list[StoredDeadline]:
        return [d for d in await self.deadlines.open_for(complaint_id) if d.clock is not None]

    async def _pause(self, record: CaseRecord, action: CaseAction, case: Case) -> list[Event]:
        """Plan every running clock as if the pause lasts its whole cap; the resume corrects it."""
        cap_end = pause_cap_ends_at(case=case, policy=self.policy, calendar=self.calendar)
        assert cap_end is not None  # noqa: S101 - the case was just paused
        plans = []
        for d in await self._running_clocks(action.complaint_id):
            if d.pause_base is not None or d.due_at <= action.occurred_at:
                continue  # already paused, or already breached: a breach keeps escalating
            if d.clock is not None and not self.policy.pausable(d.clock):
                continue  # an outer limit (MIIT's 15 days) runs on while the customer is awaited
            moved = shift_for_pause(
                deadline=as_domain(d),
                paused_at=action.occurred_at,
                resumed_at=cap_end,
                calendar=self.calendar,
            )
            plans.append(replace(with_plan(d, moved), pause_base=(d.due_at, d.thresholds)))
        await self.deadlines.replan(plans, action_id=action.action_id)
        return [self._sla_event(record, action, SlaEventKind.PAUSED)]

    async def _resume(
        self, record: CaseRecord, action: CaseAction, credit: PauseCredit
    ) -> list[Event]:
        """Move each paused clock from its pre-pause plan by the credited (capped) pause."""
        plans = []
        for d in await self._running_clocks(action.complaint_id):
            if d.pause_base is None:
                continue
            base = replace(d, due_at=d.pause_base[0], thresholds=d.pause_base[1], pause_base=None)
            moved = shift_for_pause(
                deadline=as_domain(base),
                paused_at=credit.paused_at,
                resumed_at=credit.credited_until,
                calendar=self.calendar,
            )
            plans.append(with_plan(base, moved))
        await self.deadlines.replan(plans, action_id=action.action_id)
        self.wake()
        return [self._sla_event(record, action, SlaEventKind.RESUMED)]

    async def _extend(
        self, record: CaseRecord, action: CaseAction, clock: ClockName, hours: float
    ) -> list[Event]:
        """An approved extension moves the clock's due (and its pre-pause plan) later."""
        plans = []
        for d in await self._running_clocks(action.complaint_id):
            if d.clock is not clock:
                continue
            plan = with_plan(
                d, extend_deadline(deadline=as_domain(d), hours=hours, calendar=self.calendar)
            )
            if d.pause_base is not None:
                base = replace(d, due_at=d.pause_base[0], thresholds=d.pause_base[1])
                later = extend_deadline(
                    deadline=as_domain(base), hours=hours, calendar=self.calendar
                )
                plan = replace(plan, pause_base=(later.due_at, with_plan(base, later).thresholds))
            plans.append(plan)
        await self.deadlines.replan(plans, action_id=action.action_id)
        return [self._sla_event(record, action, SlaEventKind.EXTENDED, deadline=d) for d in plans]

    async def _stop(
        self,
        record: CaseRecord,
        action: CaseAction,
        clocks: Collection[ClockName],
        *,
        status: str,
    ) -> list[Event]:
        stopped = await self.deadlines.stop_clocks(
            action.complaint_id, clocks, status=status, at=action.occurred_at
        )
        kind = SlaEventKind.MET if status == "met" else SlaEventKind.CANCELLED
        for d in stopped:
            if kind is SlaEventKind.MET and d.clock is not None:
                outcome = "on_time" if action.occurred_at <= d.due_at else "late"
                self.metrics.met.labels(d.clock.value, outcome).inc()
        await self.deadlines.announced([d.deadline_id for d in stopped])
        return [self._sla_event(record, action, kind, deadline=d) for d in stopped]

    async def _progress_given(self, record: CaseRecord, action: CaseAction) -> list[Event]:
        """Contact with the customer is a progress update: it meets the running occurrence."""
        running = [
            d
            for d in await self._running_clocks(action.complaint_id)
            if d.clock is ClockName.PROGRESS_UPDATE
        ]
        events = await self._stop(record, action, [ClockName.PROGRESS_UPDATE], status="met")
        for d in running:
            await self.rearm(d, from_time=action.occurred_at)
        return events

    async def _start(self, record: CaseRecord, action: CaseAction, step: Transition) -> None:
        """Start the clocks the transition names (callback on resolution, resolution on reopen)."""
        facts = record.facts
        started = start_clocks(
            clocks=step.starts,
            started_at=action.occurred_at,
            severity=record.case.severity,
            channel=facts.channel,
            flags=facts.flags,
            policy=self.policy,
            calendar=self.calendar,
        )
        resolutions = sum(h.action is LifecycleAction.RESOLVED for h in step.case.history)
        rounds = {ClockName.CALLBACK: resolutions - 1}
        new = [
            stored(
                action.complaint_id,
                d,
                record.case.severity.value,
                repeat=self._repeats(d.clock, record.case.severity),
                round_=rounds.get(d.clock, step.case.reopen_count),
            )
            for d in started
        ]
        await self.deadlines.add(new)
        for d in new:
            self.metrics.deadlines_set.labels(d.clock.value if d.clock else "", d.severity).inc()
        self.wake()

    async def _review(self, record: CaseRecord, action: CaseAction) -> str | None:
        """Three baseless verdicts in 365 days, or one malicious: flag for human review."""
        key = record.facts.complainant_key
        if action.action is not LifecycleAction.CLOSED or key is None:
            return None
        if action.verdict not in {Verdict.BASELESS, Verdict.MALICIOUS}:
            return None
        verdicts = await self.cases.record_verdict(
            key, complaint_id=action.complaint_id, at=action.occurred_at, verdict=action.verdict
        )
        reason = complainant_review_needed(verdicts=verdicts, now=action.occurred_at)
        if reason is not None:
            self.metrics.review_flags.inc()
        return reason

    def _state_event(
        self, record: CaseRecord, action: CaseAction, step: Transition, *, review_needed: bool
    ) -> CaseStateChanged:
        data = CaseTransition(
            complaint_id=action.complaint_id,
            action=action.action,
            action_id=action.action_id,
            actor=action.actor,
            occurred_at=action.occurred_at,
            from_state=step.from_state,
            to_state=step.to_state,
            severity=record.case.severity,
            assignee=action.assignee,
            department=action.department,
            satisfaction=action.satisfaction,
            verdict=action.verdict,
            reason=action.reason if action.verdict is Verdict.NOT_ACCEPTED else None,
            clock=action.clock,
            review_needed=review_needed,
        )
        return CaseStateChanged.build(
            data=data,
            subject=action.complaint_id,
            source=SOURCE,
            time=action.occurred_at,
            cause=f"{action.action_id}@accepted",
        )

    async def after_fired(self, deadline: StoredDeadline, threshold: Threshold) -> None:
        """Scheduler hook: an upgrade raises the case's severity; a missed repeat re-arms."""
        if threshold.percent != 100:
            return
        if deadline.upgrade_to is not None:
            await self.cases.raise_severity(deadline.complaint_id, Severity(deadline.upgrade_to))
            return
        if deadline.repeat and deadline.clock is not None:
            await self.rearm(deadline, from_time=None)

    async def rearm(self, deadline: StoredDeadline, *, from_time: datetime | None) -> None:
        """The next occurrence of a repeating clock, unless the case is past resolution."""
        assert deadline.clock is not None  # noqa: S101 - only clocks repeat
        record = await self.cases.load(deadline.complaint_id)
        if record is None or record.case.state in _SETTLED:
            return
        spec = self.policy.spec(clock=deadline.clock, severity=Severity(deadline.severity))
        if spec is None:
            return
        following = next_occurrence(
            deadline=as_domain(deadline), spec=spec, calendar=self.calendar, from_time=from_time
        )
        after = stored(
            deadline.complaint_id, following, deadline.severity, repeat=True, round_=deadline.round
        )
        await self.deadlines.add([after])
        self.wake()

    def _repeats(self, clock: ClockName, severity: Severity) -> bool:
        spec = self.policy.spec(clock=clock, severity=severity)
        return spec is not None and spec.repeat
