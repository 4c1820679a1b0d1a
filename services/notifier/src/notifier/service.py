"""The notifier use-case: route, address, claim, plan, send, record, publish receipts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import (
    Audience,
    CaseStateChanged,
    ComplaintClassified,
    DeliveryStatus,
    IncidentChanged,
    LifecycleAction,
    LifecycleEvent,
    Satisfaction,
    SlaChanged,
)
from notifier import incident_fanout, leases
from notifier.domain import (
    Assignment,
    Delivery,
    IncidentMember,
    Intent,
    Plan,
    Planner,
    Recipient,
    Router,
    customer_recipient,
    deliveries_for,
    staff_recipients,
)
from notifier.merging import Batch, dispatch_batches
from notifier.metrics import NotifierMetrics
from notifier.parsing import with_origins
from notifier.planning import plan_batch
from notifier.ports import (
    CaseBook,
    ContactBook,
    Due,
    IncidentBook,
    NotificationLog,
    Outcome,
    StaffDirectory,
)
from notifier.sender import Attempted, Sender
from notifier.settlement import Publish, Settlement
from servicekit.bodies import Received
from servicekit.clock import Clock
from servicekit.delivery import Rejection

_ANSWERS = (Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.DISSATISFIED)
"""The answers 满意率 counts (unreachable is no answer)."""


@dataclass
class Notifier:
    """Tells each audience once: every delivery's key is claimed before anything is sent."""

    router: Router
    log: NotificationLog
    contacts: ContactBook
    staff: StaffDirectory
    cases: CaseBook
    sender: Sender
    planner: Planner
    publish: Publish
    clock: Clock
    metrics: NotifierMetrics
    fallback_recipient: str = "ops-duty"
    claim_lease: timedelta = timedelta(seconds=30)
    renew_every: float | None = None
    """Real seconds between lease renewals of claims being sent (None: a third of the lease)."""
    digest_template: str = "staff_digest"
    concurrency: int = 32
    wake: Callable[[datetime | None], None] | None = None
    """The dispatcher's: a deferral was stored, due at the time given."""
    incidents: IncidentBook | None = None
    """Incident membership; without it acknowledgements are never swapped for notices."""
    _settlement: Settlement = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._settlement = Settlement(self.log, self.publish, self.clock, self.metrics)

    async def on_classified(
        self, messages: Sequence[Received[ComplaintClassified]]
    ) -> list[Rejection]:
        """Acknowledge non-complaints; tell leadership, media contact, security, management."""
        events = with_origins(messages)
        if self.incidents is not None:
            await self.incidents.join(
                [
                    IncidentMember(
                        e.data.complaint_id, e.data.incident_id, e.data.category, e.data.received_at
                    )
                    for e, _ in events
                    if e.data.incident_id and e.data.category
                ]
            )
        await self.deliver(
            [
                intent
                for event, origin in events
                for intent in self.router.for_classified(event.data, at=event.time, origin=origin)
            ]
        )
        return []

    async def on_sla(self, messages: Sequence[Received[SlaChanged]]) -> list[Rejection]:
        """Acknowledge complaints with their promised time; warn and escalate; delay notices."""
        events = with_origins(messages)
        intents = [
            intent
            for event, origin in events
            for intent in self.router.for_sla(event.data, at=event.time, origin=origin)
        ]
        await self.deliver(await incident_fanout.incident_notices(self, intents))
        return []

    async def on_incidents(self, messages: Sequence[Received[IncidentChanged]]) -> list[Rejection]:
        """Operations on open, per update threshold and on close; each customer one notice."""
        return await incident_fanout.on_incidents(self, messages)

    async def on_lifecycle(self, messages: Sequence[Received[LifecycleEvent]]) -> list[Rejection]:
        """Accepted staff actions only; staff requests and refusals on the topic are skipped."""
        events = with_origins(messages)
        accepted = [(e, o) for e, o in events if isinstance(e, CaseStateChanged)]
        for event, _ in accepted:
            answer = event.data.satisfaction
            if event.data.action is LifecycleAction.CALLBACK_DONE and answer in _ANSWERS:
                self.metrics.satisfaction.labels(answer.value).inc()
        await self.cases.record(
            [
                Assignment(t.complaint_id, t.assignee, t.department, t.occurred_at)
                for t in (e.data for e, _ in accepted)
                if t.action is LifecycleAction.ASSIGNED
            ]
        )
        await self.deliver(
            [
                intent
                for event, origin in accepted
                for intent in self.router.for_transition(event.data, at=event.time, origin=origin)
            ]
        )
        return []

    async def deliver(self, intents: Sequence[Intent]) -> None:
        """Address, plan, claim, send, record, then publish receipts (also ones a crash left).

        Every plan is made before the claim, so an outcome known without sending (nowhere to
        send it, quiet hours, a digest, a rate limit's turn) goes into the claim's own insert:
        one write. A delivery sent at once through a channel whose provider drops a repeated key
        is not claimed: its key is looked up, and once sent it is inserted with its outcome — one
        write instead of a claim and an update (ADR 0038). The rest is claimed, sent, updated.
        A key whose outcome this process holds unstored (its store failed) is not sent again:
        the settlement writes it."""
        deliveries = [
            d for d in await self._address(intents) if not self._settlement.unsaved(d.key)
        ]
        now = _to_millis(self.clock.now())  # the stored time of decided outcomes, as kept
        planned = plan_batch(deliveries, self.planner, self.sender, now)
        claims = await self.log.claim(
            deliveries,
            now=now,
            lease_until=now + self.claim_lease,
            decided=planned.decided,
            send_first=planned.send_first,
        )
        self.metrics.suppressed.inc(len(claims.settled) + claims.held)
        ours = {d.key for d in (*claims.claimed, *claims.fresh)} | {o.key for o in claims.decided}
        planned.release(self.planner, ours)
        for outcome in claims.decided:
            self.sender.count(outcome)
        outcomes = await self._carry_out(
            [Batch([d], planned.plan(d.key)) for d in claims.claimed], claims.fresh
        )
        await self._settle(outcomes, [*claims.decided, *claims.settled])
        self._wake_for(claims.decided)

    async def dispatch(self, due: Sequence[Due]) -> None:
        """Send what waited (quiet hours, digests, rate limits, abandoned claims), once."""
        now = self.clock.now()
        # Sent here but not yet recorded (the store failed): record them, never send again.
        due = [d for d in due if not self._settlement.unsaved(d.delivery.key)]
        batches = dispatch_batches(due, self.planner, now, self.digest_template)
        await self._settle(await self._carry_out(batches), [])

    async def _carry_out(
        self, batches: Sequence[Batch], fresh: Sequence[Delivery] = ()
    ) -> list[Outcome]:
        """Send what goes now (the claimed keys' leases kept alive meanwhile; `fresh` ones,
        stored under no key, have none), and the deferred outcomes of what waits."""
        gate = asyncio.Semaphore(self.concurrency)
        waiting = [
            self._deferred(d, b.plan) for b in batches if b.plan.deliver_after for d in b.deliveries
        ]

        async def bounded(batch: Batch) -> list[Outcome]:
            async with gate:
                if len(batch.deliveries) > 1:
                    template = batch.template or self.digest_template
                    return await self.sender.send_digest(batch.deliveries, template)
                return [await self.sender.send(batch.deliveries[0])]

        async def first(delivery: Delivery) -> Outcome:
            async with gate:
                return (await self.sender.send(delivery)).as_fresh()

        going = [b for b in batches if b.plan.deliver_after is None]
        keys = [d.key for b in going for d in b.deliveries]
        lease, every = self.claim_lease, self.renew_every
        async with leases.kept_alive(self.log, keys, clock=self.clock, lease=lease, every=every):
            sent, unclaimed = await asyncio.gather(
                asyncio.gather(*(bounded(b) for b in going)),
                asyncio.gather(*(first(d) for d in fresh)),
            )
        return [*waiting, *(o for group in sent for o in group), *unclaimed]

    def _deferred(self, delivery: Delivery, plan: Plan) -> Outcome:
        channel = delivery.recipient.channel if delivery.recipient else "none"
        attempted = Attempted(DeliveryStatus.DEFERRED, 0, plan.reason)
        return self.sender.outcome(delivery, channel, attempted, plan.deliver_after)

    async def _settle(self, outcomes: Sequence[Outcome], stored: Sequence[Outcome]) -> None:
        """Record, then publish receipts (`Settlement`); wake the dispatcher for deferrals."""
        await self._settlement.settle(outcomes, stored)
        self._wake_for(outcomes)

    def _wake_for(self, outcomes: Sequence[Outcome]) -> None:
        """Tell the dispatcher when the earliest deferral among `outcomes` comes due."""
        waits = [o.deliver_after for o in outcomes if o.status is DeliveryStatus.DEFERRED]
        if self.wake and waits:
            self.wake(min((w for w in waits if w is not None), default=None))

    async def _address(self, intents: Sequence[Intent]) -> list[Delivery]:
        customers = [i.complaint_id for i in intents if i.audience is Audience.CUSTOMER]
        staff = [i.complaint_id for i in intents if i.audience is not Audience.CUSTOMER]
        contacts = await self.contacts.contacts(list(dict.fromkeys(customers))) if customers else {}
        entries = await self.staff.entries() if staff else ()
        cases = await self.cases.assignments(list(dict.fromkeys(staff))) if staff else {}
        usable = self.sender.usable
        deliveries: list[Delivery] = []
        for intent in intents:
            cid = intent.complaint_id
            assignment = cases.get(cid)
            if intent.department:
                assignment = Assignment(cid, None, intent.department, intent.trigger_time)
            if intent.audience is Audience.CUSTOMER:
                recipient = customer_recipient(contacts.get(cid), usable)
                deliveries.append(Delivery(intent.key, intent, recipient))
                continue
            found = staff_recipients(
                entries, audience=intent.audience, assignment=assignment, usable=usable
            ) or self._fallback(intent.audience)
            if found:
                deliveries += deliveries_for(intent, found)
            else:
                deliveries.append(Delivery(intent.key, intent, None))
        return deliveries

    def _fallback(self, audience: Audience) -> list[Recipient]:
        """Nobody in the directory: the duty webhook, so a breach never goes unannounced."""
        if not self.sender.usable("webhook"):
            return []
        shown = f"{audience.value}:{self.fallback_recipient}"
        return [Recipient(self.fallback_recipient, "webhook", "", shown)]


def _to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
