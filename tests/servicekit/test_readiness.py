"""`/readyz` answers ready only once every consumer owns its partitions (issue 15).

A bench or demo that starts feeding at "ready" must not race the consumers' group joins, so
readiness waits until every consumer holds its assignment at the same moment; on the real broker,
with two consumers in one group as the SLA and the notifier have them, every 200 is checked
against both consumers' actual assignments at that moment.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Sequence

import httpx
import pytest
from aiokafka import TopicPartition

from contracts import PARTITIONS, Topic
from servicekit.assignment import Assignments
from servicekit.delivery import Inbound, Rejection
from servicekit.lag import subscriber_consumers
from servicekit.settings import ServiceSettings
from servicekit.shell import ServiceShell
from servicekit.signing import SigningSettings
from servicekit.subscriptions import consume


async def test_waiting_until_every_consumer_holds_its_partitions_at_once() -> None:
    assignments = Assignments()
    assert await assignments.ready()  # no consumer: nothing to wait for
    first = assignments.listener("g:a")
    second = assignments.listener("g:b")
    assert not await assignments.ready()
    await first.on_partitions_assigned({TopicPartition("a", 0)})
    assert assignments.waiting() == ["g:b"]
    await first.on_partitions_revoked({TopicPartition("a", 0)})  # the second one joins the group
    await second.on_partitions_assigned({TopicPartition("b", 0)})
    assert assignments.waiting() == ["g:a"]
    assert not await assignments.ready()
    await first.on_partitions_assigned(set())  # more replicas than partitions: still assigned
    assert await assignments.ready()
    await first.on_partitions_revoked({TopicPartition("a", 0)})  # later: readiness stays
    assert await assignments.ready()
    assert assignments.waiting() == []


async def _no_rejections(messages: Sequence[Inbound]) -> Sequence[Rejection]:
    return []


@pytest.mark.stack
async def test_readyz_is_ready_only_once_the_consumer_owns_its_partitions() -> None:
    settings = ServiceSettings(signing=SigningSettings(dev_keys=True), lag_interval_seconds=0)
    settings.kafka.bootstrap_servers = os.environ.get("COMPLAINTS_KAFKA", "127.0.0.1:9092")
    shell = ServiceShell(service="sla", settings=settings, with_mongo=False)
    group = f"readiness-{secrets.token_hex(3)}"  # a fresh group: real joins each run
    topics = (Topic.NORMALIZED, Topic.NOTIFICATION_SENT)
    for topic in topics:  # one group, two consumers: the second's join revokes the first's
        consume(
            shell.broker,
            topic=topic,
            group=group,
            settings=settings.kafka,
            policy=shell.policy(shell.clock()),
            handler=_no_rejections,
        )
    app = shell.app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:
        assert (await client.get("/readyz")).status_code == 503  # nothing started
        await app.start()
        try:
            consumers = subscriber_consumers(shell.broker)
            assert len(consumers) == len(topics)
            answers: list[int] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = (await client.get("/readyz")).status_code
                answers.append(status)
                if status == 200:
                    # Ready means owning: each consumer holds every partition of its topic.
                    held = {tp.topic: 0 for c in consumers for tp in c.assignment()}
                    for consumer in consumers:
                        for tp in consumer.assignment():
                            held[tp.topic] += 1
                    assert held == {t.value: PARTITIONS[t] for t in topics}
                    break
                await asyncio.sleep(0.01)
        finally:
            await app.stop()
    assert answers[-1] == 200, "never ready within 60 s"
