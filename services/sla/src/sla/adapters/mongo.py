"""SLA state in MongoDB (or FerretDB): `deadlines` and the case fields of `complaints`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from contracts import (
    Audience,
    CaseActionRejected,
    CaseState,
    CaseStateChanged,
    Channel,
    ClockName,
    DeliveryStatus,
    Event,
    FlagName,
    LifecycleAction,
    Satisfaction,
    Severity,
    SlaChanged,
    Verdict,
)
from servicekit.clock import Clock
from servicekit.mongo import Document, ensure_index, find_all, write_in_chunks
from servicekit.outbox import Outbox
from sla.adapters.slots import Entry, SlotIndex
from sla.domain import Case, HistoryEntry
from sla.ports import (
    CaseChange,
    CaseFacts,
    CaseFilter,
    CaseRecord,
    CaseSummary,
    ClockRecord,
    ReceiptSummary,
    StoredDeadline,
    Threshold,
)

PENDING, FIRING, DONE = "pending", "firing", "done"
# A clock stays `pending` after its last threshold fired: it is still open until its goal is met
# (or it is cancelled). Only a fired severity upgrade, which has no goal, becomes `done`.
RUNNING = (PENDING, FIRING)
CAS_ATTEMPTS = 20
PARALLEL_CLAIMS = 16


def ms(at: datetime) -> datetime:
    """`at` truncated to milliseconds, the precision BSON dates keep."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _thresholds_doc(thresholds: Sequence[Threshold]) -> list[Document]:
    return [
        {"percent": t.percent, "at": ms(t.at), "audiences": [a.value for a in t.audiences]}
        for t in thresholds
    ]


def _thresholds(raw: Sequence[Document]) -> tuple[Threshold, ...]:
    return tuple(
        Threshold(t["percent"], t["at"], tuple(Audience(a) for a in t["audiences"])) for t in raw
    )


def _next(thresholds: Sequence[Threshold], fired: Sequence[int]) -> Threshold | None:
    pending = [t for t in thresholds if t.percent not in fired]
    return min(pending, key=lambda t: t.at) if pending else None


def to_document(d: StoredDeadline) -> Document:
    """The stored form of a deadline; `next_fire_at` is what the slot index points at."""
    nxt = d.next_threshold()
    return {
        "_id": d.deadline_id,
        "complaint_id": d.complaint_id,
        "clock": d.clock.value if d.clock else None,
        "occurrence": d.occurrence,
        "severity": d.severity,
        "started_at": d.started_at,
        "due_at": ms(d.due_at),
        "thresholds": _thresholds_doc(d.thresholds),
        "fired": list(d.fired),
        "policy_version": d.policy_version,
        "calendar_version": d.calendar_version,
        "upgrade_to": d.upgrade_to,
        "unit": d.unit,
        "repeat": d.repeat,
        "round": d.round,
        "pause_base": None,
        "status": PENDING if nxt or d.clock else DONE,
        "next_fire_at": ms(nxt.at) if nxt else None,
        "next_percent": nxt.percent if nxt else None,
        "plan": 0,
        "applied": [],
    }


def from_document(doc: Document) -> StoredDeadline:
    """Rebuild a deadline from its stored form."""
    base = doc.get("pause_base")
    return StoredDeadline(
        deadline_id=doc["_id"],
        complaint_id=doc["complaint_id"],
        clock=ClockName(doc["clock"]) if doc.get("clock") else None,
        occurrence=doc["occurrence"],
        severity=doc["severity"],
        started_at=doc["started_at"],
        due_at=doc["due_at"],
        thresholds=_thresholds(doc["thresholds"]),
        policy_version=doc["policy_version"],
        calendar_version=doc["calendar_version"],
        upgrade_to=doc.get("upgrade_to"),
        fired=tuple(doc.get("fired", ())),
        unit=doc.get("unit", "h"),
        repeat=bool(doc.get("repeat", False)),
        round=doc.get("round", 0),
        pause_base=(base["due_at"], _thresholds(base["thresholds"])) if base else None,
    )


class ConcurrentUpdateError(RuntimeError):
    """A document kept changing under a compare-and-set loop (retry the batch)."""


class MongoDeadlineStore:
    """One document per clock occurrence, found through the slot index, claimed with a lease.

    Every read and write addresses documents by `_id` (FerretDB pushes nothing else down): due
    fire times come from `SlotIndex`, a complaint's deadlines from its entry in `deadline_sets`.
    Writes that change a deadline's plan are compare-and-set on its `plan` counter.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        clock: Clock,
        slot_width: int = 10,
        time_scale: float = 1.0,
    ) -> None:
        self._deadlines = db["deadlines"]
        self._sets = db["deadline_sets"]
        # Slots hold business time; on a scaled demo clock they widen so a real second still
        # spans about one slot, and writes in flight get the same real time to land.
        self._index = SlotIndex(
            db,
            width=max(1, round(slot_width * time_scale)),
            settle=timedelta(seconds=10 * time_scale),
        )
        self._clock = clock
        self._upcoming: datetime | None = None
        self._claimed: dict[Entry, int] = {}
        self._leased: dict[str, Document] = {}

    async def ensure_indexes(self) -> None:
        """Per-complaint and due look-ups for MongoDB's own planner (FerretDB ignores them)."""
        await ensure_index(self._deadlines, [("status", ASCENDING), ("next_fire_at", ASCENDING)])
        await ensure_index(self._deadlines, [("complaint_id", ASCENDING)])

    async def _index_entries(self, entries: Sequence[tuple[str, Threshold]]) -> None:
        await self._index.add([(i, ms(t.at), t.percent) for i, t in entries], now=self._clock.now())

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert-if-absent by deadline id, listed under the complaint, indexed by fire time."""
        if not deadlines:
            return
        by_complaint: dict[str, list[str]] = {}
        for d in deadlines:
            by_complaint.setdefault(d.complaint_id, []).append(d.deadline_id)
        await write_in_chunks(
            self._sets,
            [
                UpdateOne({"_id": cid}, {"$addToSet": {"ids": {"$each": ids}}}, upsert=True)
                for cid, ids in by_complaint.items()
            ],
        )
        await self._index_entries(
            [(d.deadline_id, nxt) for d in deadlines if (nxt := d.next_threshold())]
        )
        ops = [
            UpdateOne({"_id": d.deadline_id}, {"$setOnInsert": to_document(d)}, upsert=True)
            for d in deadlines
        ]
        await write_in_chunks(self._deadlines, ops)

    async def next_due_at(self) -> datetime | None:
        """The earliest unsettled fire time seen ahead of now in the last round (no I/O)."""
        return self._upcoming

    async def _one(self, deadline_id: str) -> Document | None:
        docs = await find_all(self._deadlines, {"_id": deadline_id})
        return docs[0] if docs else None

    async def _try_claim(
        self, slot: int, entry: Entry, *, now: datetime, owner: str, until: datetime
    ) -> StoredDeadline | None:
        deadline_id, at, percent = entry
        doc = await self._deadlines.find_one_and_update(
            {
                "_id": deadline_id,
                "next_fire_at": at,
                "next_percent": percent,
                "$or": [{"status": PENDING}, {"status": FIRING, "lease_until": {"$lte": now}}],
            },
            {"$set": {"status": FIRING, "lease_owner": owner, "lease_until": until}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            self._claimed[entry] = slot
            self._leased[deadline_id] = doc  # fired() starts from this copy
            return from_document(doc)
        current = await self._one(deadline_id)
        if current is None:
            return None  # the entry was indexed before its deadline was written: look again
        planned = any(t["percent"] == percent and t["at"] == at for t in current["thresholds"])
        if current["status"] not in RUNNING or not planned or percent in current.get("fired", ()):
            # Settled only on durable facts: stopped, re-planned, or fired. Anything else (an
            # earlier threshold still firing, another replica's live lease) is retried.
            self._index.settled(slot, entry)
        return None

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Claim due entries of the slots from the watermark to now; then move the watermark."""
        first = await self._index.watermark()
        if first is None:
            return []
        self._index.forget(before=first)  # another replica may have moved the watermark
        slots = self._index.span(first, now + timedelta(seconds=self._index.width))
        entries = await self._index.read(slots)
        due = [
            (slot, entry)
            for slot in slots
            for entry in entries[slot]
            if entry[1] <= now and not self._index.is_settled(slot, entry)
        ][:limit]
        claimed: list[StoredDeadline] = []
        for start in range(0, len(due), PARALLEL_CLAIMS):
            results = await asyncio.gather(
                *(
                    self._try_claim(slot, entry, now=now, owner=owner, until=lease_until)
                    for slot, entry in due[start : start + PARALLEL_CLAIMS]
                )
            )
            claimed += [d for d in results if d is not None]
        ahead = [e[1] for slot in slots for e in entries[slot] if e[1] > now]
        self._upcoming = min(ahead, default=None)
        await self._index.advance(frm=first, entries=entries, now=now)
        return claimed

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record the threshold, index the next one, release the lease (if still ours)."""
        doc: Document | None = self._leased.pop(deadline.deadline_id, None)
        for _ in range(CAS_ATTEMPTS):
            doc = doc or await self._one(deadline.deadline_id)
            if doc is None or doc["status"] != FIRING or doc.get("lease_owner") != owner:
                return  # stopped meanwhile, or the lease passed to another replica
            fired = sorted({*doc.get("fired", ()), percent})
            nxt = _next(_thresholds(doc["thresholds"]), fired)
            if nxt is not None:
                await self._index_entries([(deadline.deadline_id, nxt)])
            done = await self._deadlines.update_one(
                {"_id": deadline.deadline_id, "plan": doc.get("plan", 0), "status": FIRING},
                {
                    "$set": {
                        "fired": fired,
                        "outcome": "overdue" if 100 in fired else "",
                        "status": PENDING if nxt or doc.get("clock") else DONE,
                        "next_fire_at": ms(nxt.at) if nxt else None,
                        "next_percent": nxt.percent if nxt else None,
                        "fired_at": self._clock.now(),
                        "lease_owner": None,
                        "lease_until": None,
                    },
                    "$inc": {"plan": 1},
                },
            )
            if done.modified_count:
                entry = (deadline.deadline_id, doc["next_fire_at"], doc.get("next_percent", 0))
                if (slot := self._claimed.pop(entry, None)) is not None:
                    self._index.settled(slot, entry)
                return
            doc = None  # changed under us (re-planned): read it again
        raise ConcurrentUpdateError(deadline.deadline_id)

    async def _of(self, complaint_id: str) -> list[Document]:
        sets = await find_all(self._sets, {"_id": complaint_id})
        found = await asyncio.gather(*(self._one(i) for i in (sets[0]["ids"] if sets else [])))
        return [doc for doc in found if doc is not None]

    async def open_for(self, complaint_id: str) -> list[StoredDeadline]:
        """The complaint's running deadlines."""
        return [from_document(d) for d in await self._of(complaint_id) if d["status"] in RUNNING]

    async def replan(self, deadlines: Sequence[StoredDeadline], *, action_id: str) -> None:
        """New due / threshold times of running deadlines, once per action (compare-and-set)."""
        for d in deadlines:
            await self._replan_one(d, action_id=action_id)

    async def _replan_one(self, d: StoredDeadline, *, action_id: str) -> None:
        for _ in range(CAS_ATTEMPTS):
            doc = await self._one(d.deadline_id)
            if doc is None or doc["status"] not in RUNNING or action_id in doc.get("applied", ()):
                return
            nxt = _next(d.thresholds, doc.get("fired", ()))
            if nxt is not None:
                await self._index_entries([(d.deadline_id, nxt)])
            base = d.pause_base
            done = await self._deadlines.update_one(
                {"_id": d.deadline_id, "plan": doc.get("plan", 0)},
                {
                    "$set": {
                        "due_at": ms(d.due_at),
                        "thresholds": _thresholds_doc(d.thresholds),
                        "calendar_version": d.calendar_version,
                        "pause_base": (
                            {"due_at": ms(base[0]), "thresholds": _thresholds_doc(base[1])}
                            if base
                            else None
                        ),
                        "next_fire_at": ms(nxt.at) if nxt else None,
                        "next_percent": nxt.percent if nxt else None,
                        "status": doc["status"] if nxt or doc.get("clock") else DONE,
                    },
                    "$inc": {"plan": 1},
                    "$push": {"applied": action_id},
                },
            )
            if done.modified_count:
                return
        raise ConcurrentUpdateError(d.deadline_id)

    async def census(self) -> list[tuple[str, str, str, str, int]]:
        """Counts grouped on the server (a scan on FerretDB: run it every minute, not per event)."""
        pipeline = [
            {
                "$group": {
                    "_id": {
                        "clock": "$clock",
                        "severity": "$severity",
                        "status": "$status",
                        "outcome": "$outcome",
                    },
                    "n": {"$sum": 1},
                }
            }
        ]
        rows = await (await self._deadlines.aggregate(pipeline)).to_list(None)
        return [
            (
                r["_id"].get("clock") or "upgrade",
                r["_id"].get("severity") or "",
                r["_id"].get("status") or "",
                r["_id"].get("outcome") or "",
                int(r["n"]),
            )
            for r in rows
        ]

    async def stop_clock(
        self, complaint_id: str, clock: ClockName | None, *, status: str, at: datetime
    ) -> list[StoredDeadline]:
        """Stop the running deadlines of one clock; also return stops not yet announced."""
        wanted = clock.value if clock else None
        docs = [d for d in await self._of(complaint_id) if d.get("clock") == wanted]
        stopped: list[StoredDeadline] = []
        for doc in docs:
            if doc["status"] in RUNNING:
                on_time = at <= doc["due_at"]
                outcome = ("on_time" if on_time else "late") if status == "met" else ""
                result = await self._deadlines.update_one(
                    {"_id": doc["_id"], "status": {"$in": list(RUNNING)}},
                    {
                        "$set": {
                            "outcome": outcome,
                            "status": status,
                            "next_fire_at": None,
                            "announced": False,
                            "stopped_at": at,
                        },
                        "$inc": {"plan": 1},
                    },
                )
                if result.modified_count:
                    stopped.append(from_document(doc))
            elif doc["status"] == status and doc.get("announced") is False:
                stopped.append(from_document(doc))
        return stopped

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Flag the stops as published."""
        for deadline_id in deadline_ids:
            await self._deadlines.update_one({"_id": deadline_id}, {"$set": {"announced": True}})


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

    async def save_started(
        self, entries: Sequence[tuple[CaseFacts, CaseState, SlaChanged | None]]
    ) -> None:
        """Record the case and its facts, and the clocks-set event for cases with clocks."""
        ops = []
        for facts, state, event in entries:
            fields = {
                **facts_fields(facts),
                **case_fields(Case(state=state, severity=Severity.P4)),
                "version": 0,
                "outbox": {},
            }
            if event is not None:
                ops.append(self._outbox.insert(facts.complaint_id, event, fields))
            else:
                ops.append(
                    UpdateOne({"_id": facts.complaint_id}, {"$setOnInsert": fields}, upsert=True)
                )
        if ops:
            await write_in_chunks(self._cases, ops)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Clocks-set events not yet confirmed on Kafka."""
        return await self._outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self._outbox.mark_published(complaint_ids)

    async def load(self, complaint_id: str) -> CaseRecord | None:
        """The stored case (by `_id`)."""
        docs = await find_all(self._cases, {"_id": complaint_id})
        if not docs or "received_at" not in docs[0]:
            return None
        doc = docs[0]
        return CaseRecord(
            facts=facts_from(doc),
            case=case_from(doc),
            version=doc["version"],
            assignee=doc.get("assignee"),
            department=doc.get("department"),
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
        for complaint_id in dict.fromkeys(complaint_ids):
            docs = await find_all(self._cases, {"_id": complaint_id}, {"outbox": 1})
            for event_id, item in (docs[0].get("outbox") or {}).items() if docs else ():
                event = LIFECYCLE_EVENT.validate_python(item["event"])
                pending.append((item["at"], event_id, event))
        return [event for _, _, event in sorted(pending, key=lambda p: (p[0], p[1]))]

    async def events_published(self, events: Sequence[Event]) -> None:
        """Drop published events from their case's outbox."""
        for event in events:
            await self._cases.update_one(
                {"_id": event.subject}, {"$unset": {f"outbox.{event.id}": ""}}
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

    async def search(self, query: CaseFilter) -> list[CaseSummary]:
        """A scan of `cases` (FerretDB pushes down only `_id`): fine at the volumes staff page."""
        wanted = {
            "state": query.state.value if query.state else None,
            "severity": query.severity.value if query.severity else None,
            "category": query.category,
            "channel": query.channel.value if query.channel else None,
            "assignee": query.assignee,
        }
        docs = await find_all(
            self._cases,
            {name: value for name, value in wanted.items() if value is not None},
            {"history": 0, "outbox": 0, "pauses": 0},
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
            if "received_at" in doc
        ]
        return sorted(rows, key=lambda r: (r.facts.received_at, r.facts.complaint_id))


def _field_key(notification_id: str) -> str:
    """A notification id usable as a field name (no `.` path separators, no leading `$`)."""
    return notification_id.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


class MongoClockReader:
    """The case queries' read-only view of `deadlines` (by `_id` per case, a scan across cases)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._deadlines = db["deadlines"]
        self._sets = db["deadline_sets"]

    async def clocks_of(self, complaint_id: str) -> list[ClockRecord]:
        """Every deadline listed under the complaint."""
        sets = await find_all(self._sets, {"_id": complaint_id})
        ids = sets[0]["ids"] if sets else []
        found = await asyncio.gather(*(find_all(self._deadlines, {"_id": i}) for i in ids))
        return [
            ClockRecord(from_document(doc), doc["status"], doc.get("stopped_at"))
            for docs in found
            for doc in docs
        ]

    async def running_due_by(self, at: datetime) -> list[StoredDeadline]:
        """Running clocks due by `at` (a scan: the list endpoint runs it, not the pipeline)."""
        return await self._running({"due_at": {"$lte": at}})

    async def running_of(self, complaint_ids: Sequence[str]) -> list[StoredDeadline]:
        """Running clocks of a page of cases (one scan rather than a look-up per deadline)."""
        return await self._running({"complaint_id": {"$in": list(complaint_ids)}})

    async def _running(self, query: Document) -> list[StoredDeadline]:
        docs = await find_all(self._deadlines, {"status": {"$in": list(RUNNING)}, **query})
        return [from_document(doc) for doc in docs if doc.get("clock") is not None]
