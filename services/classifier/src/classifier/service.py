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
    news,
)
from classifier.history_reads import stored_history
from classifier.membership import IncidentMembership, late_joiners, with_members
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
from servicekit.bodies import Received
from servicekit.clock import Clock
from servicekit.delivery import Rejection

Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/classifier"
NO_HISTORY = History()


def _input(complaint: NormalizedComplaint) -> ClassifierInput:
    """What the classifier reads of a normalised complaint."""
    return ClassifierInput(
        text=complaint.text,
        channel=complaint.channel,
        customer_tier=complaint.complainant.tier,
        complainant_key=complaint.complainant_key,
    )


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

    async def take(self, messages: Sequence[Received[ComplaintNormalized]]) -> list[Rejection]:
        """Handle one consumed batch of decoded complaints; nothing of it is refused here."""
        complaints: dict[str, NormalizedComplaint] = {}
        for message in messages:
            complaints.setdefault(message.body.data.complaint_id, message.body.data)
        # Received-at order, so each complaint's history holds the batch's earlier complaints.
        items = sorted(complaints.values(), key=lambda c: (c.received_at, c.complaint_id))
        areas = [area_of(c.text) for c in items]
        decisions = await self._decide_batch(items, areas)
        incidents = await self._incidents(items, decisions, areas)
        saved = await self.store.save(
            [
                (self._event(c, d, incidents.get(c.complaint_id)), area)
                for c, d, area in zip(items, decisions, areas, strict=True)
            ]
        )
        for decided in saved.events:  # counted once, when stored; a republish is not news
            if decided.data.complaint_id in saved.new:
                self._count(decided.data)
        await self.publish(saved.events)
        await self._announce(sorted({m.incident_id for m in incidents.values()}))
        return []

    async def _announce(self, incident_ids: Sequence[str]) -> None:
        """Publish what changed in each incident since downstream was last told, then remember.

        After the decisions went out, so that a consumer told of a member can find its case.
        """
        windows = self.classifier.history_windows
        for state in await self.store.incident_states(incident_ids):
            event = news(state, windows, now=self.clock.now())
            if event is None:
                continue
            await self.publish([event])
            await self.store.mark_announced(event.data)

    async def _decide_batch(
        self, items: Sequence[NormalizedComplaint], areas: Sequence[str | None]
    ) -> list[Decision]:
        """Decide in order; each complaint becomes history for the ones after it.

        Each text is read once (one model pass for the batch); a complaint with history is
        decided again from its reading.
        """
        readings = self.classifier.read_many([_input(c) for c in items])
        first = [
            self.classifier.decide(r, received_at=c.received_at)
            for r, c in zip(readings, items, strict=True)
        ]
        windows = self.classifier.history_windows
        history = BatchHistory(await stored_history(self.store, windows, items, first, areas))
        decisions: list[Decision] = []
        for complaint, reading, draft, area in zip(items, readings, first, areas, strict=True):
            seen = history.for_complaint(
                complaint_id=complaint.complaint_id,
                complainant_key=complaint.complainant_key,
                category=draft.category,
                received_at=complaint.received_at,
                area=reading.area,  # only the complaint's issues: what its rules count
            )
            decision = draft
            if seen != NO_HISTORY:
                decision = self.classifier.decide(
                    reading, received_at=complaint.received_at, history=seen
                )
            decisions.append(decision)
            if decision.kind is Kind.COMPLAINT:
                history.add(
                    PriorComplaint(
                        complaint_id=complaint.complaint_id,
                        complainant_key=complaint.complainant_key,
                        category=decision.category,
                        received_at=complaint.received_at,
                        area=area,
                        tier=complaint.complainant.tier,
                    )
                )
        return decisions

    async def _incidents(
        self,
        items: Sequence[NormalizedComplaint],
        decisions: Sequence[Decision],
        areas: Sequence[str | None],
    ) -> dict[str, IncidentMembership]:
        """Record one incident per burst with every member; map each batch complaint to it.

        A burst's members are the complaint that reached the threshold, every earlier complaint
        of its window (from the decision, uncapped) and the batch's own earlier complaints of
        the same category and area. Members decided in earlier batches were published before
        the incident existed; they are linked in the store now, and listed on the mass-incident
        flag of this batch's incident events so that downstream sees them too.
        """
        sightings = [
            self._sighting(index, items, decisions, areas)
            for index, decision in enumerate(decisions)
            if decision.incident_key is not None
        ]
        span = timedelta(minutes=self.classifier.history_windows.mass_incident_minutes)
        sightings += await late_joiners(self.store, span, items, decisions, areas)
        batch = {c.complaint_id for c in items}
        membership: dict[str, IncidentMembership] = {}
        for sighting in merge_sightings(sightings):
            incident_id = await self.store.record_incident(sighting)
            earlier = [c for c in sighting.complaint_ids if c not in batch]
            published = await self.store.published_without_incident(earlier)
            await self.store.link_incident(incident_id, published)
            member = IncidentMembership(incident_id, tuple(published))
            for complaint_id in sighting.complaint_ids:
                if complaint_id in batch:
                    membership.setdefault(complaint_id, member)
        return membership

    @staticmethod
    def _sighting(
        index: int,
        items: Sequence[NormalizedComplaint],
        decisions: Sequence[Decision],
        areas: Sequence[str | None],
    ) -> IncidentSighting:
        """The burst that the decision at `index` completed, with all its members."""
        complaint, decision = items[index], decisions[index]
        key = IncidentKey.parse(decision.incident_key or "")
        in_batch = [
            other.complaint_id
            for other, other_decision, other_area in zip(
                items[:index], decisions[:index], areas[:index], strict=True
            )
            if other_decision.kind is Kind.COMPLAINT
            and key.covers(other_decision.category, other_area)
            and other.received_at >= key.start
        ]
        ids = dict.fromkeys([*decision.incident_members, *in_batch, complaint.complaint_id])
        return IncidentSighting(key=key, last_seen=complaint.received_at, complaint_ids=tuple(ids))

    def _event(
        self,
        complaint: NormalizedComplaint,
        decision: Decision,
        incident: IncidentMembership | None,
    ) -> ComplaintClassified:
        flags = [with_members(flag, incident) for flag in decision.flags]
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
            incident_id=incident.incident_id if incident else None,
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
