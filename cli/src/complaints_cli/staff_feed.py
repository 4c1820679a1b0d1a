"""What the demo's staff hear: the SLA's own announcements, read straight from the topics.

Staff used to find new cases by listing them every second and to learn that an action was applied
by polling its Location every two seconds; on this 2-core box those reads competed with the
pipeline for the database, and every poll gap was up to 18 business minutes lost before the next
step. The feed reads `complaints.sla.v1` (a case's first `set` deadlines: it exists now) and
`complaints.lifecycle.v1` (an action applied or refused) without a consumer group, from the end
of each partition as it was when the demo started, so staff react as the SLA answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from complaints_cli.case_client import Answer
from contracts import PARTITIONS, CaseActionRejected, CaseStateChanged, SlaEventKind, Topic
from servicekit.kafka import tool_client_kwargs

APPLIED, REFUSED = CaseStateChanged.event_type, CaseActionRejected.event_type


class StaffFeed:
    """New cases in arrival order, and the answers to actions staff are waiting for."""

    def __init__(self, bootstrap: str) -> None:
        self.cases: asyncio.Queue[str] = asyncio.Queue()
        self._bootstrap = bootstrap
        self._seen: set[str] = set()
        self._waiting: dict[tuple[str, str], asyncio.Future[Answer]] = {}
        self._fired: dict[tuple[str, str], set[int]] = {}  # (case, clock) → thresholds announced
        self._firing: dict[tuple[str, str, int], asyncio.Future[None]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin at the current end of both topics (the workload is not published yet)."""
        consumer = AIOKafkaConsumer(
            **tool_client_kwargs(self._bootstrap), group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        self._consumer = consumer
        # The services created the topics with these partitions (contracts.PARTITIONS).
        partitions = [
            TopicPartition(topic.value, p)
            for topic in (Topic.SLA, Topic.LIFECYCLE)
            for p in range(PARTITIONS[topic])
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for partition in partitions:  # fix the start now, not when the first fetch happens
            await consumer.position(partition)
        self._task = asyncio.create_task(self._read(consumer), name="staff-feed")

    def expect(self, complaint_id: str, action_id: str) -> asyncio.Future[Answer]:
        """The answer to an action about to be sent: applied (200) or refused (409)."""
        key = (complaint_id, action_id)
        if key not in self._waiting:
            self._waiting[key] = asyncio.get_running_loop().create_future()
        return self._waiting[key]

    async def fired(self, complaint_id: str, clock: str, percent: int) -> None:
        """Return once the SLA has announced `percent` of the case's first `clock` (a breach at
        100, an escalation at 150): a late script acts on what the SLA did, not on the hour."""
        if percent in self._fired.get((complaint_id, clock), ()):
            return
        key = (complaint_id, clock, percent)
        if key not in self._firing:
            self._firing[key] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.shield(self._firing[key])
        finally:
            self._firing.pop(key, None)

    def heard(self, complaint_id: str, clock: str) -> frozenset[int]:
        """The thresholds of the case's first `clock` announced so far."""
        return frozenset(self._fired.get((complaint_id, clock), ()))

    def firings(self) -> list[dict[str, Any]]:
        """One row per clock with a threshold announced (`fired`), as the progress line reads."""
        return [{"fired": sorted(fired)} for fired in self._fired.values()]

    def forget(self, complaint_id: str, action_id: str) -> None:
        """Stop waiting for an action's answer."""
        self._waiting.pop((complaint_id, action_id), None)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        async for record in consumer:
            if record.value is None:
                continue
            with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                self._hear(record.topic, json.loads(record.value))

    def _hear(self, topic: str, event: dict[str, Any]) -> None:
        data = event["data"]
        cid = str(data["complaint_id"])
        if topic == Topic.SLA.value:
            if data.get("event") == SlaEventKind.SET.value and cid not in self._seen:
                self._seen.add(cid)
                self.cases.put_nowait(cid)
            elif data.get("threshold") is not None and data.get("occurrence", 1) == 1:
                self._heard_firing(cid, str(data["clock"]), int(data["threshold"]))
            return
        if event.get("type") not in {APPLIED, REFUSED}:
            return
        future = self._waiting.pop((cid, str(data["action_id"])), None)
        if future is None or future.done():
            return
        if event["type"] == APPLIED:
            future.set_result(Answer(200, {"status": "applied", "to_state": data["to_state"]}))
        else:
            future.set_result(Answer(409, {"reason": data["reason"], "state": data.get("state")}))

    def _heard_firing(self, complaint_id: str, clock: str, percent: int) -> None:
        self._fired.setdefault((complaint_id, clock), set()).add(percent)
        future = self._firing.get((complaint_id, clock, percent))
        if future is not None and not future.done():
            future.set_result(None)

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()
