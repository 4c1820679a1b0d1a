"""ApplyCaseAction: staff actions from `complaints.lifecycle.v1`, each ONE compare-and-set.

Each action goes through the pure state machine. An accepted action's new case, new clock sheet
and log entry (carrying the events it publishes) are stored in one compare-and-set on the case
document; then the batch's events are published; then the offset is committed. The actions of
different cases in a batch are applied side by side (`lanes`, at most `concurrency` cases at
once); one case's actions stay in their order. A redelivered
action finds its id in the history and republishes its stored events, with the same ids. A
refused action is answered with `CaseActionRejected` (its id is deterministic too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import (
    ActionRejection,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseState,
    Event,
    LifecycleAction,
    LifecycleEvent,
    Verdict,
)
from servicekit.bodies import Received
from servicekit.delivery import Rejection
from servicekit.plausible import implausible_time, out_of_range
from sla.casework.effects import apply_effects
from sla.casework.extensions import capped_extension
from sla.casework.keys import new_flags
from sla.casework.lanes import in_lanes
from sla.casework.state_events import state_event
from sla.casework.work import CaseWork
from sla.clocks.due import earlier_entry
from sla.domain import (
    Refusal,
    Transition,
    apply_action,
    complainant_review_needed,
)
from sla.ports import CaseChange, CaseRecord, LogEntry, after
from sla.snapshots import with_snapshots

log = logging.getLogger(__name__)
SOURCE = "/complaints/sla"
COMMIT_ATTEMPTS = 10
# Cases of one batch applied at once: each compare-and-set is a round trip to the database, and
# one after another they queued staff actions for minutes of a compressed demo clock (ADR 0013).
CONCURRENCY = 8
# How far before the complaint's receipt an action may be dated (clocks of staff systems drift).
CLOCK_SKEW = timedelta(minutes=10)


def _new_category(record: CaseRecord, action: CaseAction) -> str | None:
    """A complaint regrade's category when it differs from the stored one."""
    category = action.regrade.category if action.regrade else None
    return category if category and category != record.facts.category else None


class CaseBusyError(RuntimeError):
    """A case kept changing under the compare-and-set loop; the batch is retried."""


def staff_actions(
    events: Sequence[Received[LifecycleEvent]],
) -> tuple[list[CaseActionTaken], list[Rejection]]:
    """Staff actions of a decoded lifecycle batch; this service's own answers on the topic are
    skipped, and an action dated before it was issued is refused (`backdated`)."""
    taken: list[CaseActionTaken] = []
    rejections: list[Rejection] = []
    for event in events:
        if not isinstance(event.body, CaseActionTaken):
            continue  # CaseStateChanged, CaseActionRejected: what this service published
        if (why := backdated(event.body)) is not None:
            rejections.append(Rejection(event, "backdated", why))
        else:
            taken.append(event.body)
    return taken, rejections


def backdated(event: CaseActionTaken) -> str | None:
    """Why an action is dated earlier than the case API issued it, or None.

    The case API stamps `occurred_at` with its own clock when it signs the action, and the
    envelope's `time` with the same instant; an action dated more than `CLOCK_SKEW` before its
    issue would move clocks in the past (a breached deadline "met on time"), so it is refused
    before it reaches a case. Times outside the pipeline's range are `implausible_time`'s.
    """
    if implausible_time(event) is not None:
        return None
    if event.data.occurred_at < event.time - CLOCK_SKEW:
        return "the action is dated more than 10 minutes before it was issued"
    return None


def time_refusal(record: CaseRecord, action: CaseAction) -> Refusal | None:
    """Refuse an action dated where none can be: outside the pipeline's time range (the clock
    arithmetic would overflow), or before the complaint was received."""
    if (path := implausible_time(action)) is not None:
        return Refusal("implausible_time", out_of_range(path), record.case.state)
    if action.occurred_at < record.facts.received_at - CLOCK_SKEW:
        detail = "the action is dated before the complaint was received"
        return Refusal("before_receipt", detail, record.case.state)
    return None


@dataclass
class ApplyCaseAction(CaseWork):
    """Drives each case through its lifecycle and keeps its clock sheet in step."""

    wake: Callable[[datetime], None]  # the scheduler's: a threshold is due at this time
    concurrency: int = CONCURRENCY

    async def on_lifecycle(self, messages: Sequence[Received[LifecycleEvent]]) -> list[Rejection]:
        """Apply the staff actions (cases read in one go; each case's in order, cases side by
        side); publish what they stored."""
        actions, rejections = staff_actions(messages)
        # Read without the change log (costly to parse): only a redelivery needs it, read then.
        known = await self.cases.load_many([e.data.complaint_id for e in actions], log=False)
        # Each lane reads and writes only its own case's entry of `known`.
        outgoing = await in_lanes(
            [e.data for e in actions],
            key=lambda a: a.complaint_id,
            work=lambda a: self._apply(a, known),
            limit=self.concurrency,
        )
        # Every case whose history holds one of the actions (applied now, or before: then this
        # is a redelivery and its state may never have been published) is published as it is.
        applied = {(e.data.complaint_id, e.data.action_id) for e in actions}
        records = [
            r
            for r in known.values()
            if any((r.complaint_id, h.action_id) in applied for h in r.case.history)
        ]
        await self.publish(with_snapshots(outgoing, records, at=self.clock.now()))
        return rejections

    async def _apply(self, action: CaseAction, known: dict[str, CaseRecord]) -> list[Event]:
        """Apply one action (compare-and-set, re-read and retried on a concurrent change)."""
        for _ in range(COMMIT_ATTEMPTS):
            record = known.pop(action.complaint_id, None) or await self.cases.load(
                action.complaint_id
            )
            if record is None:
                detail = "no classified complaint with this id is known to the SLA service"
                return [self._refused(action, Refusal("unknown_case", detail, CaseState.RECEIVED))]
            if any(h.action_id == action.action_id for h in record.case.history):
                known[action.complaint_id] = record
                stored = record.entry(action.action_id)  # a redelivery: publish it again
                if stored is None and (whole := await self.cases.load(action.complaint_id)):
                    stored = whole.entry(action.action_id)
                return list(stored.events) if stored is not None else []
            outcome = time_refusal(record, action) or capped_extension(
                record,
                apply_action(record.case, action, policy=self.policy, calendar=self.calendar),
                policy=self.policy,
                calendar=self.calendar,
            )
            if isinstance(outcome, Refusal):
                known[action.complaint_id] = record
                self.metrics.lifecycle.labels(action.action.value, "refused").inc()
                await self.cases.record_refusal(
                    action.complaint_id,
                    action.action_id,
                    reason=outcome.reason,
                    detail=outcome.detail,
                )
                return [self._refused(action, outcome)]
            change = await self._change(record, action, outcome)
            if await self.cases.commit(record, change):
                known[action.complaint_id] = after(record, change)
                self.metrics.lifecycle.labels(action.action.value, "accepted").inc()
                return list(change.entry.events)
        raise CaseBusyError(action.complaint_id)

    async def _change(self, record: CaseRecord, action: CaseAction, step: Transition) -> CaseChange:
        """The compare-and-set this action is: sheet, case, log entry with its events."""
        sheet = apply_effects(record, action, step, policy=self.policy, calendar=self.calendar)
        for entry in sheet.met:
            assert entry.clock is not None  # noqa: S101 - only clocks are met
            outcome = "on_time" if action.occurred_at <= entry.due_at else "late"
            self.metrics.met.labels(entry.clock.value, outcome).inc()
        moved = earlier_entry(record.complaint_id, record.clocks, sheet.sheet)
        if moved:
            await self.index.add(moved, now=self.clock.now())  # before the case: never missed
            self.wake(min(e[1] for e in moved))
        review = await self._review(record, action)
        events: list[Event] = [*sheet.events, state_event(record, action, step, review)]
        return CaseChange(
            case=step.case,
            clocks=sheet.sheet,
            entry=LogEntry(action.action_id, action.occurred_at, tuple(events)),
            resolved_at=action.occurred_at if step.to_state is CaseState.RESOLVED else None,
            closed_at=action.occurred_at if step.to_state is CaseState.CLOSED else None,
            pause=(step.pause.paused_at, step.pause.credited_until) if step.pause else None,
            review_reason=review,
            assignment=(
                (action.assignee, action.department)
                if action.action is LifecycleAction.ASSIGNED
                else None
            ),
            category=_new_category(record, action),
            flags=new_flags(record, action),
        )

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
