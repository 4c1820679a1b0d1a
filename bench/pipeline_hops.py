"""Where a complaint's time goes between submit and acknowledgement: the time of each hop.

A reader with no consumer group follows the pipeline's topics from their ends while a latency
run goes on, and keeps, per complaint of the run, the Kafka timestamp (the producer's clock when
the record was handed to it: the stage's "out") of

    raw          the bench's submit reached the broker's client      (after `sent`)
    normalized   intake's output
    classified   the classifier's
    sla set      the SLA service's deadlines (complaints; enquiries are acknowledged on
                 `classified` directly)
    receipt      the notifier's delivered acknowledgement receipt (after the send)

and the receiver's arrival time of the acknowledgement itself. Each hop is the difference of two
of them, so it holds everything between: the broker, the consumer's fetch wait, the queue
behind earlier batches, the handler, the producer's linger. Nothing here asks the services:
they run as shipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pipeline_figures import percentile

from contracts import Topic

WATCHED = (Topic.RAW, Topic.NORMALIZED, Topic.CLASSIFIED, Topic.SLA, Topic.NOTIFICATION_SENT)
HOPS = (
    ("submit", "sent", "raw"),
    ("intake", "raw", "normalized"),
    ("classifier", "normalized", "classified"),
    ("sla", "classified", "sla"),
    ("notifier", "trigger", "delivered"),
    ("receipt", "delivered", "receipt"),
)
"""(name, from, to): `trigger` is `sla` for a complaint, `classified` for the rest; `receipt`
comes after the customer has the acknowledgement, so it is shown but not part of e2e."""


@dataclass
class Passages:
    """Per external id, the wall-clock second each stage let the complaint go."""

    prefix: str
    times: dict[str, dict[str, float]] = field(default_factory=dict)
    _external: dict[str, str] = field(default_factory=dict)  # complaint id → external id
    _early: dict[str, dict[str, float]] = field(default_factory=dict)  # by complaint id

    def see(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Note one record of a watched topic (others' runs and other events are passed by)."""
        at = record.timestamp / 1000
        if record.topic == Topic.RAW.value:
            external = (record.key or b"").decode(errors="replace").partition(":")[2]
            if external.startswith(self.prefix):
                self.times.setdefault(external, {}).setdefault("raw", at)
            return
        cid = (record.key or b"").decode(errors="replace")
        if record.topic == Topic.NORMALIZED.value:
            external = orjson.loads(record.value or b"{}")["data"].get("external_id") or ""
            if external.startswith(self.prefix):
                self._external[cid] = external
                mine = self.times.setdefault(external, {})
                mine.setdefault("normalized", at)
                for earlier, when in self._early.pop(cid, {}).items():
                    mine.setdefault(earlier, when)
            return
        stage = self._stage(record)
        if stage is None:
            return
        if (known := self._external.get(cid)) is not None:
            self.times[known].setdefault(stage, at)
        elif len(self._early) < 100_000:  # seen before its normalized record (another partition)
            self._early.setdefault(cid, {}).setdefault(stage, at)

    @staticmethod
    def _stage(record: ConsumerRecord[bytes, bytes]) -> str | None:
        if record.topic == Topic.CLASSIFIED.value:
            return "classified"
        data = orjson.loads(record.value or b"{}").get("data", {})
        if record.topic == Topic.SLA.value:
            return "sla" if data.get("event") == "set" else None
        if (
            data.get("acknowledgement")
            and data.get("audience") == "customer"
            and data.get("status") == "delivered"
        ):
            return "receipt"
        return None

    def hops(
        self, sent: Mapping[str, float], delivered: Mapping[str, float]
    ) -> dict[str, list[float]]:
        """Per hop, its milliseconds for every acknowledged complaint that has both ends."""
        out: dict[str, list[float]] = {name: [] for name, _, _ in HOPS}
        for external, arrived in delivered.items():
            mine = dict(self.times.get(external, {}), delivered=arrived)
            if external in sent:
                mine["sent"] = sent[external]
            trigger = mine.get("sla", mine.get("classified"))
            if trigger is not None:
                mine["trigger"] = trigger
            for name, start, end in HOPS:
                if start in mine and end in mine:
                    out[name].append((mine[end] - mine[start]) * 1000)
        return out


class HopWatch:
    """Follows the watched topics from their current ends until stopped."""

    def __init__(self, prefix: str, client: Mapping[str, object]) -> None:
        self.passages = Passages(prefix)
        self._consumer = AIOKafkaConsumer(
            *(t.value for t in WATCHED),
            **client,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=100,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin at the topics' ends (returns once every partition's position is known)."""
        await self._consumer.start()
        while not self._consumer.assignment():  # noqa: ASYNC110 - the client's own state
            await asyncio.sleep(0.05)
        await self._consumer.seek_to_end()
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=200)
            for records in batch.values():
                for record in records:
                    self.passages.see(record)

    async def stop(self) -> None:
        """Read what is there now, then stop."""
        await asyncio.sleep(0.5)  # the last receipts follow the last acknowledgements
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


def hop_lines(hops: Mapping[str, Sequence[float]]) -> list[str]:
    """One line per hop: p50 / p99 / max in ms and how many complaints it covers."""
    lines = []
    for name, _, _ in HOPS:
        values = hops.get(name, ())
        if not values:
            lines.append(f"    {name:<10} -")
            continue
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        lines.append(
            f"    {name:<10} p50 {p50:7,.0f} ms  p99 {p99:7,.0f} ms  max {max(values):7,.0f} ms"
            f"  ({len(values)})"
        )
    return lines
