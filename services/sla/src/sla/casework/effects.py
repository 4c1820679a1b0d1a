"""What an accepted staff action does to the clock sheet, and the clock events it announces.

Pure: the sheet in, the new sheet and events out; the use-case stores both in one
compare-and-set. Pauses, resumes and extensions are `pauses`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

from contracts import (
    CaseAction,
    ClockName,
    ClockStatus,
    LifecycleAction,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
)
from sla.casework.keys import keys_after, keys_of, new_flags
from sla.casework.pauses import extend, pause, resume
from sla.clocks.firing import next_of
from sla.clocks.replan import Keys, calendar_moves, pause_window, replan_for_severity
from sla.clocks.sheet import ClockEntry, compact, entry_of, upsert
from sla.domain import (
    BusinessCalendar,
    SlaPolicy,
    Transition,
    start_clocks,
)
from sla.ports import CaseRecord

SOURCE = "/complaints/sla"
# Stops caused by these actions end a clock without reaching its goal.
CANCELLING = frozenset(
    {LifecycleAction.CLOSED, LifecycleAction.WITHDRAWN, LifecycleAction.REOPENED}
)
_SETTLED = frozenset({"resolved", "callback_done", "closed", "withdrawn"})


@dataclass
class SheetChange:
    """A sheet being changed by one action, and the events that change announces."""

    record: CaseRecord
    action: CaseAction
    policy: SlaPolicy
    calendar: BusinessCalendar
    sheet: tuple[ClockEntry, ...] = ()
    events: list[SlaChanged] = field(default_factory=list)
    met: list[ClockEntry] = field(default_factory=list)  # for the met-on-time counter

    def __post_init__(self) -> None:
        self.sheet = self.record.clocks

    def running(self, clock: ClockName | None = None) -> list[ClockEntry]:
        """Running clock entries (not upgrades), of one clock if given."""
        return [
            e
            for e in self.sheet
            if e.running and e.clock is not None and (clock is None or e.clock is clock)
        ]

    def event(
        self,
        kind: SlaEventKind,
        entry: ClockEntry | None = None,
        *,
        previous: ClockEntry | None = None,
    ) -> None:
        """Announce a change of the case's clocks (of one clock entry if given)."""
        cid, action = self.record.complaint_id, self.action
        data = SlaChange(
            complaint_id=cid,
            event=kind,
            severity=self.record.case.severity,
            clock=entry.clock if entry else None,
            occurrence=entry.occurrence if entry else 1,
            due_at=entry.due_at if entry else None,
            policy_version=entry.policy_version if entry else self.policy.version,
            calendar_version=entry.calendar_version if entry else self.calendar.version,
            fired_at=action.occurred_at,
            provisional=entry.provisional if entry else False,
            previous_due_at=previous.due_at if previous else None,
            previous_calendar_version=previous.calendar_version if previous else None,
        )
        target = entry.deadline_id(cid) if entry else cid
        self.events.append(
            SlaChanged.build(
                data=data,
                subject=cid,
                source=SOURCE,
                time=action.occurred_at,
                cause=f"{target}@{kind.value}@{action.action_id}",
            )
        )

    def put(self, *entries: ClockEntry) -> None:
        """Replace (or add) entries of the sheet."""
        self.sheet = upsert(self.sheet, entries)

    def stop(self, clocks: Collection[ClockName], status: ClockStatus) -> None:
        """Stop the running entries of these clocks (met or cancelled), each announced."""
        at = self.action.occurred_at
        kind = SlaEventKind.MET if status is ClockStatus.MET else SlaEventKind.CANCELLED
        for e in [e for e in self.running() if e.clock in clocks]:
            if e.repeat and e.breached:  # its breach was announced; its successor is the goal
                self.put(replace(e, status=ClockStatus.BREACHED, stopped_at=at))
                continue
            stopped = replace(e, status=status, stopped_at=at)
            self.put(stopped)
            self.event(kind, e)
            if status is ClockStatus.MET:
                self.met.append(stopped)

    def cancel_upgrades(self) -> None:
        """A resolved or ended case is not upgraded any more (nobody is told: no event)."""
        at = self.action.occurred_at
        self.put(
            *(
                replace(e, status=ClockStatus.CANCELLED, stopped_at=at)
                for e in self.sheet
                if e.running and e.clock is None
            )
        )

    def start(self, step: Transition, keys: Keys) -> None:
        """Start the clocks the transition names (callback on resolution, resolution on reopen)."""
        record = self.record
        severity = record.case.severity
        started = start_clocks(
            clocks=step.starts,
            started_at=self.action.occurred_at,
            severity=severity,
            channel=record.facts.channel,
            flags=record.facts.flags,
            policy=self.policy,
            calendar=self.calendar,
            category=keys.category,
            complex_case=keys.complex_case,
        )
        resolutions = sum(h.action is LifecycleAction.RESOLVED for h in step.case.history)
        # Each resolution and each hand-over request runs its own occurrence of its clock.
        rounds = {
            ClockName.CALLBACK: resolutions - 1,
            ClockName.HANDOVER: len(step.case.handovers) - 1,
        }
        have = {e.key for e in self.sheet}
        for d in started:
            spec = self.policy.spec(
                clock=d.clock,
                severity=severity,
                category=keys.category,
                complex_case=keys.complex_case,
            )
            entry = entry_of(
                d,
                severity.value,
                repeat=spec is not None and spec.repeat,
                round_=rounds.get(d.clock, step.case.reopen_count),
            )
            if entry.key not in have:
                self.put(entry)

    def recalendar(self, keys: Keys) -> None:
        """Re-plan every running clock on this service's calendar (a paused one stays paused);
        each one whose due moves is announced with its old and new due and calendar versions
        (kept in the log)."""
        case = self.record.case
        moves = calendar_moves(
            self.sheet,
            severity=case.severity,
            flags=self.record.facts.flags,
            keys=keys,
            policy=self.policy,
            calendar=self.calendar,
            pause=pause_window(case, policy=self.policy, calendar=self.calendar),
        )
        for old, new in moves:
            self.put(new)
            self.event(SlaEventKind.REPLANNED, new, previous=old)

    def progress_given(self) -> None:
        """Contact with the customer is a progress update: it meets the running occurrence and
        starts the next one from now."""
        running = self.running(ClockName.PROGRESS_UPDATE)
        self.stop([ClockName.PROGRESS_UPDATE], ClockStatus.MET)
        if self.record.case.state.value in _SETTLED:
            return
        for e in running:
            following = next_of(
                e, policy=self.policy, calendar=self.calendar, from_time=self.action.occurred_at
            )
            if following is not None and following.key not in {x.key for x in self.sheet}:
                self.put(following)


def apply_effects(
    record: CaseRecord,
    action: CaseAction,
    step: Transition,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> SheetChange:
    """Change the sheet as the transition says."""
    change = SheetChange(record, action, policy, calendar)
    if step.pause is not None:
        resume(change, step)
    if step.pauses:
        pause(change, step)
    if step.extension is not None:
        extend(change, *step.extension)
    if step.stops:
        cancelled = action.action in CANCELLING or action.action is LifecycleAction.REGRADED
        status = ClockStatus.CANCELLED if cancelled else ClockStatus.MET
        change.stop(step.stops, status)
    if ClockName.RESOLUTION in step.stops or action.action in CANCELLING:
        change.cancel_upgrades()
    before, keys = keys_of(record), keys_after(record, action, step)
    flags = new_flags(record, action)
    if flags is not None:  # later clocks, warnings and overlays follow the corrected flags too
        change.record = replace(record, facts=replace(record.facts, flags=flags))
    if step.starts:
        change.start(step, keys)
    severity_changed = step.case.severity is not record.case.severity
    if severity_changed or flags is not None or keys != before:  # a regrade or a mark: re-plan
        change.sheet = replan_for_severity(
            change.sheet,
            severity=step.case.severity,
            channel=record.facts.channel,
            flags=change.record.facts.flags,
            now=action.occurred_at,
            policy=policy,
            calendar=calendar,
            keys=keys,
            previous=None if severity_changed or flags is not None else before,
            pause=pause_window(step.case, policy=policy, calendar=calendar),
        )
    if action.action is LifecycleAction.CONTACTED:
        change.progress_given()
    if action.action is LifecycleAction.CALENDAR_REPLANNED:
        change.recalendar(keys)
    change.sheet = compact(change.sheet, at=action.occurred_at)
    return change


__all__ = ["CANCELLING", "Severity", "SheetChange", "apply_effects"]
