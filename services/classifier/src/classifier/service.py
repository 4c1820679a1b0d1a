"""The classifier use-case: normalised complaints in, explained decisions out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from classifier.domain import (
    BatchHistory,
    Classifier,
    ClassifierInput,
    Decision,
    History,
    IncidentKey,
    IncidentSighting,
    PriorComplaint,
    area_of,
    merge_sightings,
)
from classifier.metrics import ClassifierMetrics
from classifier.ports import ClassificationStore
from contracts import (
    ClassifiedComplaint,
    ComplaintClassified,
    ComplaintNormalized,
    Event,
    Flag,
    FlagName,
    Kind,
    NormalizedComplaint,
)
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection, decode

Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/classifier"
NO_HISTORY = History()


def top(category: str | None) -> str | None:
    """Top-level code of a category path."""
    return category.split("/", 1)[0] if category else None


@dataclass
class Classification:
    """Decides every complaint of a batch against its history, stores, then publishes."""

    classifier: Classifier
    store: ClassificationStore
    publish: Publish
    clock: Clock
    metrics: ClassifierMetrics

    async def take(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Handle one consumed batch; returns the messages to dead-letter."""
        events, rejections = decode(messages, ComplaintNormalized)
        complaints: dict[str, NormalizedComplaint] = {}
        for event in events:
            complaints.setdefault(event.data.complaint_id, event.data)
        # Received-at order, so each complaint's history holds the batch's earlier complaints.
        items = sorted(complaints.values(), key=lambda c: (c.received_at, c.complaint_id))
        areas = [area_of(c.text) for c in items]
        decisions = await self._decide_batch(items, areas)
        incidents = await self._incidents(items, decisions, areas)
        await self.store.save(
            [
                (self._event(c, d, incidents.get(c.complaint_id)), area)
                for c, d, area in zip(items, decisions, areas, strict=True)
            ]
        )
        pending = await self.store.unpublished([c.complaint_id for c in items])
        await self.publish(pending)
        await self.store.mark_published([e.data.complaint_id for e in pending])
        for decided_event in pending:
            self._count(decided_event.data)
        return rejections

    def _decide(self, complaint: NormalizedComplaint, history: History) -> Decision:
        item = ClassifierInput(
            text=complaint.text,
            channel=complaint.channel,
            customer_tier=complaint.complainant.tier,
            complainant_key=complaint.complainant_key,
        )
        return self.classifier.classify(item, received_at=complaint.received_at, history=history)

    async def _decide_batch(
        self, items: Sequence[NormalizedComplaint], areas: Sequence[str | None]
    ) -> list[Decision]:
        """Decide in order; each complaint becomes history for the ones after it."""
        first = [self._decide(c, NO_HISTORY) for c in items]
        history = BatchHistory(await self._stored(items, first))
        decisions: list[Decision] = []
        for complaint, draft, area in zip(items, first, areas, strict=True):
            seen = history.for_complaint(
                complaint_id=complaint.complaint_id,
                complainant_key=complaint.complainant_key,
                category=draft.category,
                received_at=complaint.received_at,
            )
            decision = draft if seen == NO_HISTORY else self._decide(complaint, seen)
            decisions.append(decision)
            if decision.kind is Kind.COMPLAINT:
                history.add(
                    PriorComplaint(
                        complaint_id=complaint.complaint_id,
                        complainant_key=complaint.complainant_key,
                        category=decision.category,
                        received_at=complaint.received_at,
                        area=area,
                    )
                )
        return decisions

    async def _stored(
        self, items: Sequence[NormalizedComplaint], decisions: Sequence[Decision]
    ) -> list[PriorComplaint]:
        """Stored complaints that can be history for this batch (by complainant or category)."""
        if not items:
            return []
        windows = self.classifier.history_windows
        earliest = items[0].received_at
        keys = sorted({c.complainant_key for c in items if c.complainant_key})
        categories = sorted({t for d in decisions if (t := top(d.category))})
        mine = await self.store.by_complainants(
            keys, since=earliest - timedelta(days=windows.repeat_days)
        )
        theirs = await self.store.by_categories(
            categories, since=earliest - timedelta(days=windows.hot_issue_days)
        )
        return [*mine, *theirs]

    async def _incidents(
        self,
        items: Sequence[NormalizedComplaint],
        decisions: Sequence[Decision],
        areas: Sequence[str | None],
    ) -> dict[str, str]:
        """Record one incident per burst; map every batch complaint in a burst to its id.

        The complaint that reaches the threshold carries the key; the batch's earlier complaints
        of the same burst (not yet published) are tagged too, so the incident's customers can
        be told together. Members decided in earlier batches are linked through the record.
        """
        sightings: list[IncidentSighting] = []
        for index, (complaint, decision) in enumerate(zip(items, decisions, strict=True)):
            if decision.incident_key is None:
                continue
            key = IncidentKey.parse(decision.incident_key)
            related = next(
                (f.related for f in decision.flags if f.name is FlagName.MASS_INCIDENT), []
            )
            in_batch = [
                other.complaint_id
                for other, other_decision, other_area in zip(
                    items[:index], decisions[:index], areas[:index], strict=True
                )
                if other_decision.kind is Kind.COMPLAINT
                and other_area == key.area
                and top(other_decision.category) == key.category
                and other.received_at >= key.start
            ]
            ids = dict.fromkeys([*related, *in_batch, complaint.complaint_id])
            sightings.append(
                IncidentSighting(key=key, last_seen=complaint.received_at, complaint_ids=tuple(ids))
            )
        incident_of: dict[str, str] = {}
        for sighting in merge_sightings(sightings):
            incident_id = await self.store.record_incident(sighting)
            for complaint_id in sighting.complaint_ids:
                incident_of.setdefault(complaint_id, incident_id)
        return incident_of

    def _event(
        self, complaint: NormalizedComplaint, decision: Decision, incident_id: str | None
    ) -> ComplaintClassified:
        flags = list(decision.flags)
        if complaint.duplicate_of:
            flags.append(
                Flag(
                    name=FlagName.DUPLICATE,
                    related=[complaint.duplicate_of],
                    detail="near-identical text from the same complainant",
                )
            )
        data = ClassifiedComplaint(
            complaint_id=complaint.complaint_id,
            channel=complaint.channel,
            received_at=complaint.received_at,
            complainant_key=complaint.complainant_key,
            customer_tier=complaint.complainant.tier,
            kind=decision.kind,
            category=decision.category,
            severity=decision.severity,
            flags=flags,
            confidence=decision.confidence,
            explanation=list(decision.explanation),
            model_version=decision.model_version,
            policy=decision.policy,
            policy_version=decision.policy_version,
            referral_due_at=complaint.referral_due_at,
            duplicate_of=complaint.duplicate_of,
            incident_id=incident_id,
        )
        return ComplaintClassified.build(
            data=data,
            subject=complaint.complaint_id,
            source=SOURCE,
            time=self.clock.now(),
            cause=complaint.complaint_id,
        )

    def _count(self, data: ClassifiedComplaint) -> None:
        self.metrics.classified.labels(
            data.kind.value,
            top(data.category) or "none",
            data.severity.value if data.severity else "none",
        ).inc()
        self.metrics.confidence.observe(data.confidence)
        for flag in data.flags:
            self.metrics.flags.labels(flag.name.value).inc()
            if flag.name is FlagName.NEEDS_REVIEW:
                self.metrics.needs_review.inc()
