"""Recording outcomes once each, then publishing their receipts (and dead letters)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contracts import Event
from notifier.metrics import NotifierMetrics
from notifier.ports import NotificationLog, Outcome
from notifier.receipts import dead_letter_for, needs_dead_letter, receipt_for
from servicekit.clock import Clock

Publish = Callable[[Sequence[Event]], Awaitable[None]]


@dataclass
class Settlement:
    """Stores each batch's outcomes in one write and publishes their receipts.

    The handlers of the four topics and the dispatcher settle concurrently. Each call writes
    and publishes its own outcomes, plus those a failed store left in memory that no other
    call is writing: the outcomes of a batch still being written are not written (and their
    receipts not published) a second time by a call that overlaps it.
    """

    log: NotificationLog
    publish: Publish
    clock: Clock
    metrics: NotifierMetrics
    _unsaved: dict[str, Outcome] = field(default_factory=dict, init=False, repr=False)
    """Sent (or decided) but not stored yet: while being written, or after the store failed."""
    _writing: set[str] = field(default_factory=set, init=False, repr=False)

    def unsaved(self, key: str) -> bool:
        """Whether an outcome of `key` is known here but not stored: never send it again."""
        return key in self._unsaved

    async def settle(self, outcomes: Sequence[Outcome], stored: Sequence[Outcome]) -> None:
        """Record `outcomes` (and any a failed store left) in one write, then publish their
        receipts, and again those of outcomes stored before (`stored`: a redelivery).

        No receipt mark follows: the input's offset is committed after this returns, and a
        redelivery finds the stored outcome and publishes the same receipt (same id and time).
        A fresh outcome (sent before anything was stored) whose key another sender stored first
        is dropped: the stored outcome's receipt goes out instead (ADR 0038).
        """
        own = {o.key: o for o in outcomes}
        left = [o for k, o in self._unsaved.items() if k not in own and k not in self._writing]
        pending = [*left, *own.values()]
        self._unsaved.update(own)
        now = _to_millis(self.clock.now())  # as MongoDB keeps it: a republish is byte-equal
        keys = {o.key for o in pending}
        before: dict[str, Outcome | None] = {}
        if pending:
            self._writing |= keys
            try:
                before = await self.log.complete(pending, now=now)
            finally:
                self._writing -= keys
            for outcome in pending:
                if self._unsaved.get(outcome.key) is outcome:
                    del self._unsaved[outcome.key]
        finished = [
            *(o.stored_at(now) for o in pending if o.key not in before),
            *(o for o in before.values() if o is not None),
            *(o for o in stored if o.key not in keys),
        ]
        if not finished:
            return
        for o in outcomes:
            if needs_dead_letter(o) and o.key not in before:
                self.metrics.dead_lettered.labels(o.channel, o.intent.audience.value).inc()
        await self.publish(
            [
                *(receipt_for(o, now=o.settled_at or now) for o in finished),
                *(
                    dead_letter_for(o, now=o.settled_at or now)
                    for o in finished
                    if needs_dead_letter(o)
                ),
            ]
        )


def _to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
