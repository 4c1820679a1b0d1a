"""The notifier's side of `handler_cpu.py`: each complaint's classification and its clocks set
(the customer's acknowledgement by SMS), as the bench's ordinary complaints bring them: each
from its own phone, so the per-recipient rate limiter holds one bucket per customer (a run
longer than the limiter's memory shows whether the cost per complaint stays flat)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from contracts import Event, Kind, Severity, Topic
from notifier.adapters.memory import (
    InMemoryCaseBook,
    InMemoryContactBook,
    InMemoryIncidentBook,
    InMemoryNotificationLog,
    InMemoryStaffDirectory,
)
from notifier.channels.http import SignedHttpChannel
from notifier.channels.wire import Response
from notifier.domain import Planner, Router
from notifier.handlers import CLASSIFIED, SLA
from notifier.metrics import NotifierMetrics
from notifier.sender import Sender
from notifier.service import Notifier
from servicekit.bodies import deliver
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from servicekit.kafka import encode
from tests.notifier.rig import NOW, classified, pack_directory, pack_policy, sla_set


class StubClient:
    """Answers every POST with 200 at once (what the SMS gateway says)."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:  # noqa: ARG002
        """200, empty body."""
        return Response(200, {}, b"")


def _records(events: Sequence[Event], topic: Topic, first: int) -> list[Inbound]:
    return [
        Inbound(
            topic.value, 0, first + i, (e.subject or "").encode(), e.model_dump_json().encode(), 0
        )
        for i, e in enumerate(events)
    ]


async def run(count: int, batch: int, cpu: Callable[[], float]) -> float:
    """CPU seconds for `count` complaints, `batch` records per handler call."""
    ids = [f"CP20261124-{i:010d}" for i in range(count)]
    published: list[bytes] = []

    async def publish(events: Sequence[Event]) -> None:
        published.extend(encode(e) for e in events)

    policy = pack_policy()
    client: Any = StubClient()
    channels: dict[str, Any] = {
        name: SignedHttpChannel(name=name, url=f"http://stub/{name}", secret=b"k", client=client)
        for name in ("sms", "webhook")
    }
    clock = FakeClock(NOW + timedelta(seconds=2))
    metrics = NotifierMetrics(CollectorRegistry())
    notifier = Notifier(
        router=Router(policy),
        log=InMemoryNotificationLog(),
        contacts=InMemoryContactBook({c: f"+86138{i:08d}" for i, c in enumerate(ids)}),
        staff=InMemoryStaffDirectory(pack_directory()),
        cases=InMemoryCaseBook(),
        sender=Sender(channels=channels, templates=policy.templates, clock=clock, metrics=metrics),
        planner=Planner(policy),
        publish=publish,
        clock=clock,
        metrics=metrics,
        incidents=InMemoryIncidentBook(),
    )
    decided = _records([classified(Kind.COMPLAINT, cid=c) for c in ids], Topic.CLASSIFIED, 0)
    sets = _records([sla_set(c, severity=Severity.P3) for c in ids], Topic.SLA, 0)
    started = cpu()
    for at in range(0, count, batch):
        refused = await deliver(CLASSIFIED, notifier.on_classified, decided[at : at + batch])
        refused += await deliver(SLA, notifier.on_sla, sets[at : at + batch])
        if refused:
            raise SystemExit(f"handler-cpu: {len(refused)} records refused")
    spent = cpu() - started
    if len(published) < count:
        raise SystemExit(f"handler-cpu: {len(published)} receipts for {count} complaints")
    return spent
