"""SLA cases in MongoDB (or FerretDB): `cases`, `complainants` and `case_receipts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import (
    Audience,
    CaseActionRejected,
    CaseState,
    CaseStateChanged,
    Channel,
    DeliveryStatus,
    Event,
    FlagName,
    LifecycleAction,
    Satisfaction,
    Severity,
    SlaChanged,
    Verdict,
)
from servicekit.mongo import (
    Document,
    check_filter,
    ensure_index,
    find_all,
    insert_new,
    write_in_chunks,
)
from servicekit.outbox import Outbox
from sla.domain import Case, HistoryEntry
from sla.ports import (
    CaseChange,
    CaseFacts,
    CaseFilter,
    CaseRecord,
    CaseSummary,
    ReceiptSummary,
)


def case_fields(case: Case) -> Document:
    """The state machine's view of a case as stored fields (severity is kept apart)."""
    return {
        "state": case.state.value,
        "paused_at": case.paused_at,
        "pause_reason": case.pause_reason,
        "paused_total_seconds": case.paused_total.total_seconds(),
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
    )


def facts_fields(facts: CaseFacts) -> Document:
    """The classification facts as stored fields (read by `complaints sla simulate` too)."""
    severity = facts.severity_at_receipt.value if facts.severity_at_receipt else None
    return {
        "received_at": facts.received_at,
        "channel": facts.channel.value,
        "flags": [f.value for f in facts.flags],
        "severity_at_receipt": severity,
        "severity": severity or Severity.P4.value,
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


LIFECYCLE_EVENT: TypeAdapter[Event] = TypeAdapter(
    Annotated[SlaChanged | CaseStateChanged | CaseActionRejected, Field(discriminator="type")]
)


LIST_FIELDS = ("state", "severity", "category", "channel", "assignee")


class MongoCaseStore:
    """`cases`: one document per complaint; compare-and-set on `version` for every change.

    Events of accepted actions wait in the document's `outbox` map (event id → event) until they
    are on Kafka, so an action stored just before a crash is still announced after it.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._cases = db["cases"]
        self._complainants = db["complainants"]
        # Receipts live beside the case, keyed by complaint id: one may arrive before the case
        # is stored, and an upsert into `cases` would then shadow the case's own first write.
        self._receipts = db["case_receipts"]
        self._outbox = Outbox(self._cases, stage="sla", event_type=SlaChanged)
        self._prefetched: dict[str, Document] = {}

    async def save_started(
        self, entries: Sequence[tuple[CaseFacts, CaseState, SlaChanged | None]]
    ) -> None:
        """Record the case and its facts, and the clocks-set event for cases with clocks."""
        with_event: list[tuple[str, SlaChanged, dict[str, Any] | None]] = []
        plain: list[Document] = []
        for facts, state, event in entries:
            fields = {
                **facts_fields(facts),
                **case_fields(Case(state=state, severity=Severity.P4)),
                "version": 0,
                "outbox": {},
            }
            if event is not None:
                with_event.append((facts.complaint_id, event, fields))
            else:
                plain.append({"_id": facts.complaint_id, **fields})
        await self._outbox.insert_all(with_event)
        await insert_new(self._cases, plain)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Clocks-set events not yet confirmed on Kafka."""
        return await self._outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self._outbox.mark_published(complaint_ids)

    async def prefetch(self, complaint_ids: Sequence[str]) -> None:
        """One `_id $in` read for a batch; each prefetched case serves one `load` only, so a
        compare-and-set retry always reads afresh."""
        self._prefetched = {}  # whatever an earlier, failed batch left is stale
        if wanted := sorted(set(complaint_ids)):
            docs = await find_all(self._cases, {"_id": {"$in": wanted}})
            self._prefetched = {doc["_id"]: doc for doc in docs}

    async def load(self, complaint_id: str) -> CaseRecord | None:
        """The stored case (by `_id`)."""
        doc = self._prefetched.pop(complaint_id, None)
        if doc is None:
            docs = await find_all(self._cases, {"_id": complaint_id})
            doc = docs[0] if docs else None
        if doc is None or "received_at" not in doc:
            return None
        return CaseRecord(
            facts=facts_from(doc),
            case=case_from(doc),
            version=doc["version"],
            assignee=doc.get("assignee"),
            department=doc.get("department"),
            refusals={
                item["action_id"]: (item["reason"], item["detail"])
                for item in (doc.get("refusals") or {}).values()
            },
        )

    async def commit(self, record: CaseRecord, case: Case, change: CaseChange) -> bool:
        """Compare-and-set the new case with its dates, pause window and pending events."""
        fields = case_fields(case)
        for event in change.events:
            fields[f"outbox.{event.id}"] = {
                "at": event.time,
                "event": event.model_dump(mode="json"),
            }
        if change.resolved_at is not None:
            fields["resolved_at"] = change.resolved_at
        if change.closed_at is not None:
            fields["closed_at"] = change.closed_at
        if change.review_reason is not None:
            fields["review_reason"] = change.review_reason
        if change.assignment is not None:
            fields["assignee"], fields["department"] = change.assignment
        update: Document = {"$set": fields, "$inc": {"version": 1}}
        if change.pause is not None:
            window = {"paused_at": change.pause[0], "credited_until": change.pause[1]}
            update["$push"] = {"pauses": window}
        result = await self._cases.update_one(
            {"_id": record.facts.complaint_id, "version": record.version}, update
        )
        return result.modified_count == 1

    async def pending_events(self, complaint_ids: Sequence[str]) -> list[Event]:
        """Events of accepted actions still waiting in the outbox map, oldest first."""
        pending: list[tuple[datetime, str, Event]] = []
        wanted = list(dict.fromkeys(complaint_ids))
        docs = (
            await find_all(self._cases, {"_id": {"$in": wanted}}, {"outbox": 1}) if wanted else []
        )
        for doc in docs:
            for event_id, item in (doc.get("outbox") or {}).items():
                event = LIFECYCLE_EVENT.validate_python(item["event"])
                pending.append((item["at"], event_id, event))
        return [event for _, _, event in sorted(pending, key=lambda p: (p[0], p[1]))]

    async def events_published(self, events: Sequence[Event]) -> None:
        """Drop published events from their case's outbox."""
        by_case: dict[str, dict[str, str]] = {}
        for event in events:
            by_case.setdefault(str(event.subject), {})[f"outbox.{event.id}"] = ""
        await write_in_chunks(
            self._cases,
            [UpdateOne({"_id": cid}, {"$unset": fields}) for cid, fields in by_case.items()],
        )

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """`refusals.<action id>` on the case document (the state and version are untouched)."""
        entry = {"action_id": action_id, "reason": reason, "detail": detail}
        await self._cases.update_one(
            {"_id": complaint_id}, {"$set": {f"refusals.{_field_key(action_id)}": entry}}
        )

    async def raise_severity(self, complaint_id: str, severity: Severity) -> None:
        """Set the upgraded severity (the version moves so a racing commit re-reads)."""
        await self._cases.update_one(
            {"_id": complaint_id}, {"$set": {"severity": severity.value}, "$inc": {"version": 1}}
        )

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """`complainants.<key>.verdicts`, one entry per complaint (a redelivery adds nothing)."""
        entry = {"complaint_id": complaint_id, "at": at, "verdict": verdict.value}
        await self._complainants.update_one(
            {"_id": complainant_key}, {"$addToSet": {"verdicts": entry}}, upsert=True
        )
        docs = await find_all(self._complainants, {"_id": complainant_key})
        seen: dict[str, tuple[datetime, Verdict]] = {}
        for item in docs[0].get("verdicts", []) if docs else []:
            seen[item["complaint_id"]] = (item["at"], Verdict(item["verdict"]))
        return list(seen.values())

    async def record_receipts(self, receipts: Sequence[ReceiptSummary]) -> None:
        """One write per case; the last receipt of a batch per notification id wins."""
        by_case: dict[str, dict[str, Document]] = {}
        for r in receipts:
            by_case.setdefault(r.complaint_id, {})[_field_key(r.notification_id)] = {
                "notification_id": r.notification_id,
                "audience": r.audience.value,
                "channel": r.channel,
                "template": r.template,
                "status": r.status.value,
                "at": r.at,
            }
        ops = [
            UpdateOne(
                {"_id": cid},
                {"$set": {f"receipts.{key}": doc for key, doc in kept.items()}},
                upsert=True,
            )
            for cid, kept in by_case.items()
        ]
        if ops:
            await write_in_chunks(self._receipts, ops)

    async def receipts(self, complaint_id: str) -> list[ReceiptSummary]:
        """The case's receipts (by `_id`), oldest first."""
        docs = await find_all(self._receipts, {"_id": complaint_id})
        stored = (docs[0].get("receipts") or {}).values() if docs else ()
        kept = [
            ReceiptSummary(
                notification_id=r["notification_id"],
                complaint_id=complaint_id,
                audience=Audience(r["audience"]),
                channel=r["channel"],
                template=r["template"],
                status=DeliveryStatus(r["status"]),
                at=r["at"],
            )
            for r in stored
        ]
        return sorted(kept, key=lambda r: (r.at, r.notification_id))

    async def ensure_indexes(self) -> None:
        """One index per list filter (and receipt time), so a filtered page is an index walk."""
        for field in LIST_FIELDS:
            await ensure_index(self._cases, [(field, 1), ("received_at", 1)])
        await ensure_index(self._cases, [("received_at", 1)])

    async def search(self, query: CaseFilter) -> list[CaseSummary]:
        """Every matching case, oldest receipt first (tools and tests; the API pages instead)."""
        rows, _ = await self.search_page(query, skip=0, limit=None)
        return rows

    async def search_page(
        self,
        query: CaseFilter,
        *,
        skip: int,
        limit: int | None,
        ids: Sequence[str] | None = None,
    ) -> tuple[list[CaseSummary], int]:
        """One page of matching cases (oldest receipt first) and how many match in all.

        Two reads, so the process never decodes more than a page of cases: the matching ids and
        receipt times (small documents; FerretDB 1.x scans for any filter that is not an `_id`
        or an indexed field's equality, MongoDB walks the field's index), then the page's cases
        by `_id`. `ids` narrows the match to those cases (the clock filters).
        """
        where = _where(query)
        if ids is not None:
            where["_id"] = {"$in": list(ids)}
        keys = await find_all(self._cases, where, {"_id": 1, "received_at": 1})
        ordered = sorted((doc["received_at"], doc["_id"]) for doc in keys if "received_at" in doc)
        chosen = [cid for _, cid in ordered[skip : None if limit is None else skip + limit]]
        if not chosen:
            return [], len(ordered)
        docs = await find_all(
            self._cases, {"_id": {"$in": chosen}}, {"history": 0, "outbox": 0, "pauses": 0}
        )
        rows = [
            CaseSummary(
                facts=facts_from(doc),
                state=CaseState(doc["state"]),
                severity=Severity(doc["severity"]),
                assignee=doc.get("assignee"),
                department=doc.get("department"),
            )
            for doc in docs
        ]
        rows.sort(key=lambda r: (r.facts.received_at, r.facts.complaint_id))
        return rows, len(ordered)


def _where(query: CaseFilter) -> Document:
    """Equality on plain values: nothing from a request is read as an operator."""
    wanted = {
        "state": query.state.value if query.state else None,
        "severity": query.severity.value if query.severity else None,
        "category": query.category,
        "channel": query.channel.value if query.channel else None,
        "assignee": query.assignee,
    }
    where = {name: value for name, value in wanted.items() if value is not None}
    check_filter(where)
    return where


def _field_key(notification_id: str) -> str:
    """A notification or action id usable as a field name: no `.` path separators, no `$`, no
    NUL (which ends a BSON key), never empty (`%` alone, as `%` itself is escaped)."""
    escaped = notification_id.replace("%", "%25").replace(".", "%2E").replace("$", "%24")
    return escaped.replace("\x00", "%00") or "%"
