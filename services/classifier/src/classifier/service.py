"""The classifier use-case: normalised complaints in, explained decisions out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from contracts import (
    ClassifiedComplaint,
    ComplaintClassified,
    ComplaintNormalized,
    Event,
    Flag,
    FlagName,
    NormalizedComplaint,
)
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection, decode

from classifier.domain import (
    Classifier,
    ClassifierInput,
    Decision,
    History,
    PriorComplaint,
    area_of,
)
from classifier.metrics import ClassifierMetrics
from classifier.ports import ClassificationStore

Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/classifier"


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
        items = list(complaints.values())
        first = [self._decide(c, History()) for c in items]
        histories = await self._histories(items, first)
        decided = [
            (self._event(c, self._decide(c, h) if h != History() else d), area_of(c.text))
            for c, d, h in zip(items, first, histories, strict=True)
        ]
        await self.store.save(decided)
        pending = await self.store.unpublished(list(complaints))
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

    async def _histories(
        self, items: Sequence[NormalizedComplaint], decisions: Sequence[Decision]
    ) -> list[History]:
        if not items:
            return []
        windows = self.classifier.history_windows
        earliest = min(c.received_at for c in items)
        keys = sorted({c.complainant_key for c in items if c.complainant_key})
        categories = sorted({t for d in decisions if (t := top(d.category))})
        mine = await self.store.by_complainants(
            keys, since=earliest - timedelta(days=windows.repeat_days)
        )
        theirs = await self.store.by_categories(
            categories, since=earliest - timedelta(days=windows.hot_issue_days)
        )
        return [
            self._history_of(c, top(d.category), mine, theirs)
            for c, d in zip(items, decisions, strict=True)
        ]

    @staticmethod
    def _history_of(
        complaint: NormalizedComplaint,
        category: str | None,
        mine: Sequence[PriorComplaint],
        theirs: Sequence[PriorComplaint],
    ) -> History:
        def earlier(p: PriorComplaint) -> bool:
            return p.complaint_id != complaint.complaint_id and (p.received_at, p.complaint_id) < (
                complaint.received_at,
                complaint.complaint_id,
            )

        return History(
            same_complainant=tuple(
                p for p in mine if earlier(p) and p.complainant_key == complaint.complainant_key
            ),
            same_category_recent=tuple(
                p for p in theirs if earlier(p) and top(p.category) == category
            ),
        )

    def _event(self, complaint: NormalizedComplaint, decision: Decision) -> ComplaintClassified:
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
            incident_id=decision.incident_key,
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
