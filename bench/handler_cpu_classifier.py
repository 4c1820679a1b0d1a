"""The classifier service's side of `handler_cpu.py`: the dev fixture's texts as normalised
complaints from distinct complainants, 10 ms apart (the bench publishes its complaints at
once), through `Classification.take` with the bench's policies (no mass incident forms)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pipeline_workload import ordinary_policies
from prometheus_client import CollectorRegistry

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.domain import Classifier
from classifier.handlers import NORMALIZED
from classifier.metrics import ClassifierMetrics
from classifier.service import Classification
from contracts import Event, Topic
from servicekit.bodies import deliver
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from servicekit.kafka import encode
from tests._builders.classifier import NOW, POLICIES, normalized


async def run(count: int, batch: int, cpu: Callable[[], float]) -> float:
    """CPU seconds for `count` complaints, `batch` records per handler call."""
    fixture = POLICIES.parent / "data/fixtures/complaints.dev.jsonl"
    texts = [json.loads(line)["text"] for line in fixture.read_text("utf-8").splitlines() if line]
    records = [
        Inbound(
            Topic.NORMALIZED.value,
            0,
            i,
            None,
            normalized(
                i + 1,
                texts[i % len(texts)],
                key=f"ck_{i:032x}",
                at=NOW + timedelta(seconds=i * 0.01),
            )
            .model_dump_json()
            .encode(),
            0,
        )
        for i in range(count)
    ]
    published: list[bytes] = []

    async def publish(events: Any) -> None:
        published.extend(encode(e) for e in events if isinstance(e, Event))

    # As in the pipeline bench: no burst reaches a mass-incident threshold.
    classifier = Classifier.load(policy_dir=ordinary_policies(), pack="telecom")
    use_case = Classification(
        classifier=classifier,
        store=InMemoryClassificationStore(),
        publish=publish,
        clock=FakeClock(NOW + timedelta(minutes=5)),
        metrics=ClassifierMetrics(CollectorRegistry()),
    )
    started = cpu()
    for at in range(0, count, batch):
        if refused := await deliver(NORMALIZED, use_case.take, records[at : at + batch]):
            raise SystemExit(f"handler-cpu: {len(refused)} records refused")
    spent = cpu() - started
    if len(published) < count:
        raise SystemExit(f"handler-cpu: {len(published)} decisions for {count} complaints")
    return spent
