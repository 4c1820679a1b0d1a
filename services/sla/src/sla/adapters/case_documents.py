"""The stored form of a case: facts, lifecycle fields, the clock sheet and the change log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from contracts import (
    CaseActionRejected,
    CaseState,
    CaseStateChanged,
    Channel,
    Event,
    FlagName,
    LifecycleAction,
    Satisfaction,
    Severity,
    SlaChanged,
    Verdict,
)
from servicekit.mongo import Document
from sla.adapters.case_list import NEXT_DUE, REVIEW, REVIEW_NEEDED, next_due
from sla.adapters.packed import pack_log, pack_sheet, unpack_log, unpack_sheet
from sla.clocks.codec import clock_doc, clock_of, ms
from sla.clocks.sheet import ClockEntry
from sla.domain import Case, Handover, HistoryEntry
from sla.ports import CaseChange, CaseFacts, CaseRecord, LogEntry, Submission

LOGGED_EVENT: TypeAdapter[Event] = TypeAdapter(
    Annotated[SlaChanged | CaseStateChanged | CaseActionRejected, Field(discriminator="type")]
)


def case_fields(case: Case) -> Document:
    """The state machine's view of a case as stored fields."""
    return {
        "state": case.state.value,
        "severity": case.severity.value,
        "paused_at": case.paused_at,
        "pause_reason": case.pause_reason,
        "paused_total_seconds": case.paused_total.total_seconds(),
        "extended_total_seconds": case.extended_total.total_seconds(),
        "contact_failures": case.contact_failures,
        "callback_failures": case.callback_failures,
        "callback_answer": case.callback_answer.value if case.callback_answer else None,
        "verdict": case.verdict.value if case.verdict else None,
        "acknowledged": case.acknowledged,
        "contacted": case.contacted,
        "reopen_count": case.reopen_count,
        "history": [
            {
                "action_id": h.action_id,
                "action": h.action.value,
                "actor": h.actor,
                "at": h.at,
                "from_state": h.from_state.value,
                "to_state": h.to_state.value,
                "reason": h.reason,
            }
            for h in case.history
        ],
        "complex": case.complex_case,
        "owner": case.owner,
        "owner_department": case.owner_department,
        "handovers": [asdict(h) for h in case.handovers],
    }


def _optional(enum: Any, value: Any) -> Any:
    return enum(value) if value is not None else None


def case_from(doc: Document) -> Case:
    """Rebuild the state machine's view of a stored case."""
    return Case(
        state=CaseState(doc["state"]),
        severity=Severity(doc["severity"]),
        paused_at=doc.get("paused_at"),
        pause_reason=doc.get("pause_reason"),
        paused_total=timedelta(seconds=doc.get("paused_total_seconds", 0.0)),
        extended_total=timedelta(seconds=doc.get("extended_total_seconds", 0.0)),
        contact_failures=doc.get("contact_failures", 0),
        callback_failures=doc.get("callback_failures", 0),
        callback_answer=_optional(Satisfaction, doc.get("callback_answer")),
        verdict=_optional(Verdict, doc.get("verdict")),
        acknowledged=doc.get("acknowledged", False),
        contacted=doc.get("contacted", False),
        reopen_count=doc.get("reopen_count", 0),
        history=tuple(
            HistoryEntry(
                action_id=h["action_id"],
                action=LifecycleAction(h["action"]),
                actor=h["actor"],
                at=h["at"],
                from_state=CaseState(h["from_state"]),
                to_state=CaseState(h["to_state"]),
                reason=h.get("reason"),
            )
            for h in doc.get("history", ())
        ),
        complex_case=doc.get("complex", False),
        owner=doc.get("owner"),
        owner_department=doc.get("owner_department"),
        handovers=tuple(Handover(**h) for h in doc.get("handovers") or ()),
    )


def facts_fields(facts: CaseFacts) -> Document:
    """The classification facts as stored fields (read by `complaints sla simulate` too)."""
    severity = facts.severity_at_receipt.value if facts.severity_at_receipt else None
    return {
        "received_at": facts.received_at,
        "channel": facts.channel.value,
        "flags": [f.value for f in facts.flags],
        "severity_at_receipt": severity,
        "referral_due_at": facts.referral_due_at,
        "complainant_key": facts.complainant_key,
        "category": facts.category,
    }


def facts_from(doc: Document) -> CaseFacts:
    """Classification facts back from a case document."""
    return CaseFacts(
        complaint_id=doc["_id"],
        received_at=doc["received_at"],
        channel=Channel(doc["channel"]),
        flags=tuple(FlagName(f) for f in doc.get("flags", ())),
        severity_at_receipt=_optional(Severity, doc.get("severity_at_receipt")),
        referral_due_at=doc.get("referral_due_at"),
        complainant_key=doc.get("complainant_key"),
        category=doc.get("category"),
    )


def log_doc(entry: LogEntry) -> Document:
    """One change as its log keeps it: the events exactly as published (packed, ADR 0023)."""
    events = [event.model_dump(mode="json") for event in entry.events]
    return pack_log({"id": entry.id, "at": entry.at, "events": events})


def log_of(stored: Document) -> LogEntry:
    """A log entry back, its events with their original ids."""
    doc = unpack_log(stored)
    return LogEntry(
        id=doc["id"],
        at=doc["at"],
        events=tuple(LOGGED_EVENT.validate_python(e) for e in doc.get("events", ())),
    )


def sheet_doc(clocks: Sequence[ClockEntry]) -> str:
    """The `clocks` field as stored: the whole sheet as one JSON text (ADR 0028)."""
    return pack_sheet([clock_doc(c) for c in clocks])


def sheet_of(doc: Document) -> tuple[ClockEntry, ...]:
    """The clock sheet of a stored case (one JSON text or, stored before ADR 0028, a list)."""
    return tuple(clock_of(d) for d in unpack_sheet(doc.get("clocks")))


def case_document(record: CaseRecord) -> Document:
    """A new case as inserted."""
    return {
        "_id": record.complaint_id,
        **facts_fields(record.facts),
        **case_fields(record.case),
        "version": record.version,
        "clocks": sheet_doc(record.clocks),
        NEXT_DUE: next_due(record.clocks),
        "log": [log_doc(e) for e in record.log],
        "unpublished": list(record.unpublished),
    }


def record_from(doc: Document) -> CaseRecord:
    """A stored case back, clock sheet and log included."""
    return CaseRecord(
        facts=facts_from(doc),
        case=case_from(doc),
        version=doc["version"],
        clocks=sheet_of(doc),
        log=tuple(log_of(e) for e in doc.get("log", ())),
        unpublished=tuple(doc.get("unpublished", ())),
        assignee=doc.get("assignee"),
        department=doc.get("department"),
        refusals={
            item["action_id"]: (item["reason"], item["detail"])
            for item in (doc.get("refusals") or {}).values()
        },
        submissions={
            item["action_id"]: Submission(item["digest"], item["occurred_at"])
            for item in (doc.get("submitted") or {}).values()
        },
        review_reason=doc.get("review_reason"),
    )


def submission_doc(submission: Submission) -> Document:
    """A submission as stored under `submitted.<action id>`."""
    return {"digest": submission.digest, "occurred_at": ms(submission.occurred_at)}


def change_update(change: CaseChange) -> Document:
    """The one update a change is: the whole sheet and case fields, the log entry appended."""
    fields = {
        **case_fields(change.case),
        "clocks": sheet_doc(change.clocks),
        NEXT_DUE: next_due(change.clocks),
    }
    if change.resolved_at is not None:
        fields["resolved_at"] = change.resolved_at
    if change.closed_at is not None:
        fields["closed_at"] = change.closed_at
    if change.review_reason is not None:
        fields["review_reason"] = change.review_reason
        fields[REVIEW] = REVIEW_NEEDED  # a plain string: an equality the list's index narrows by
    if change.assignment is not None:
        fields["assignee"], fields["department"] = change.assignment
    if change.category is not None:
        fields["category"] = change.category
    if change.flags is not None:
        fields["flags"] = [f.value for f in change.flags]
    update: Document = {
        "$set": fields,
        "$inc": {"version": 1},
        "$push": {"log": log_doc(change.entry)},
    }
    if change.pause is not None:
        window = {"paused_at": change.pause[0], "credited_until": change.pause[1]}
        update["$push"]["pauses"] = window
    if change.unpublished:
        update["$addToSet"] = {"unpublished": change.entry.id}
    return update


def field_key(text: str) -> str:
    """An id usable as a field name: no `.` path separators, no `$`, no NUL (which ends a BSON
    key), never empty (`%` alone, as `%` itself is escaped)."""
    escaped = text.replace("%", "%25").replace(".", "%2E").replace("$", "%24")
    return escaped.replace("\x00", "%00") or "%"
