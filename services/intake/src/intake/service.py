"""The intake use-case: raw channel messages in, stored and published complaints out."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from contracts import ComplaintNormalized, Event
from intake.domain import Accepted, IntakeLimits, Rejected, is_near_duplicate, process_raw
from intake.metrics import IntakeMetrics
from intake.ports import ComplaintStore, IntakeRecord, PriorText, intake_key
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection

Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/intake"


@dataclass
class Intake:
    """Validates, normalises, de-duplicates, stores, then publishes — in that order."""

    store: ComplaintStore
    publish: Publish
    clock: Clock
    metrics: IntakeMetrics
    secret: bytes
    limits: IntakeLimits
    duplicate_window: timedelta

    async def take(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Handle one consumed batch; returns the messages to dead-letter."""
        now = self.clock.now()
        rejections: list[Rejection] = []
        accepted: dict[str, Accepted] = {}
        received: Counter[str] = Counter()  # counted once per batch, not per message
        replays = 0
        observe = self.metrics.processing.observe
        for message in messages:
            started = time.perf_counter()
            outcome = process_raw(message.value, now=now, secret=self.secret, limits=self.limits)
            observe(time.perf_counter() - started)
            if isinstance(outcome, Rejected):
                received["unknown"] += 1
                self.metrics.rejected.labels(outcome.reason.value).inc()
                rejections.append(Rejection(message, outcome.reason.value, outcome.detail))
                continue
            complaint = outcome.complaint
            received[complaint.channel.value] += 1
            if complaint.complaint_id in accepted:
                replays += 1
                continue
            accepted[complaint.complaint_id] = outcome
        for channel, count in received.items():
            self.metrics.received.labels(channel).inc(count)
        if replays:
            self.metrics.replays.inc(replays)
        # The two reads are independent: one round trip's wait, not two (the prior texts of
        # every accepted complainant; a replay dropped meanwhile only widened the read).
        replayed, priors = await asyncio.gather(
            self._drop_replays(accepted), self._priors(list(accepted.values()))
        )
        records = self._link_duplicates(list(accepted.values()), priors)
        saved = await self.store.save(records)
        # A replay's first complaint is published again too: if its own batch stored it and
        # died before publishing, this is its way out (consumers are idempotent on its id).
        ours = {r.event.data.complaint_id for r in records}
        again = await self.store.stored([c for c in dict.fromkeys(replayed) if c not in ours])
        stored = Counter(  # counted once, when stored; a republish is not news
            e.data.channel.value for e in saved.events if e.data.complaint_id in saved.new
        )
        for channel, count in stored.items():
            self.metrics.accepted.labels(channel).inc(count)
        await self.publish([*saved.events, *again])
        return rejections

    async def _drop_replays(self, accepted: dict[str, Accepted]) -> list[str]:
        """(channel, external id) seen before, on any day, or earlier in this batch: the first
        complaint stands (one read; the complaints' unique key guards a replica's race)."""
        keys: dict[str, str] = {}
        for cid, item in list(accepted.items()):
            key = intake_key(item.complaint.channel.value, item.complaint.external_id)
            if key is not None:
                keys.setdefault(key, cid)
        first = await self.store.first_complaints(list(keys))
        replayed = []
        for cid, item in list(accepted.items()):
            key = intake_key(item.complaint.channel.value, item.complaint.external_id)
            if key is not None and (stands := first.get(key, keys[key])) != cid:
                self.metrics.replays.inc()
                del accepted[cid]
                replayed.append(stands)
        return replayed

    async def _priors(self, items: Sequence[Accepted]) -> list[PriorText]:
        """Stored complaints of these complainants within the duplicate window (one read)."""
        keys = sorted({i.complaint.complainant_key for i in items if i.complaint.complainant_key})
        since = min((i.complaint.received_at for i in items), default=self.clock.now())
        return await self.store.recent_by_complainant(keys, since=since - self.duplicate_window)

    def _link_duplicates(
        self, items: list[Accepted], stored: Sequence[PriorText]
    ) -> list[IntakeRecord]:
        # By complainant: each complaint compares only its own complainant's texts (a scan of
        # every prior per complaint was quadratic in the batch).
        priors: dict[str, list[PriorText]] = {}
        for prior in stored:
            if prior.complainant_key:
                priors.setdefault(prior.complainant_key, []).append(prior)
        records: list[IntakeRecord] = []
        for item in sorted(
            items, key=lambda i: (i.complaint.received_at, i.complaint.complaint_id)
        ):
            complaint = item.complaint
            mine = priors.get(complaint.complainant_key or "", [])
            original = self._first_similar(item, mine)
            if original is not None:
                self.metrics.duplicates.inc()
                complaint = complaint.model_copy(update={"duplicate_of": original})
            event = ComplaintNormalized.build(
                data=complaint,
                subject=complaint.complaint_id,
                source=SOURCE,
                time=self.clock.now(),
                cause=complaint.complaint_id,
            )
            records.append(IntakeRecord(event, item.contact, item.original, item.fingerprint))
            if complaint.complainant_key:
                priors.setdefault(complaint.complainant_key, []).append(
                    PriorText(
                        complaint.complaint_id,
                        complaint.complainant_key,
                        item.fingerprint,
                        complaint.received_at,
                    )
                )
        return records

    def _first_similar(self, item: Accepted, priors: Sequence[PriorText]) -> str | None:
        complaint = item.complaint
        window_start = complaint.received_at - self.duplicate_window
        candidates = [
            p
            for p in priors
            if p.complainant_key == complaint.complainant_key
            and p.complaint_id != complaint.complaint_id
            and window_start <= p.received_at <= complaint.received_at
            and is_near_duplicate(p.fingerprint, item.fingerprint)
        ]
        return min(candidates, key=lambda p: p.received_at).complaint_id if candidates else None
