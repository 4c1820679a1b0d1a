"""End-to-end pipeline throughput and latency against a bare Kafka relay on the same broker.

On the real local stack (Kafka + FerretDB, started if needed):
1. **relay**: a bare aiokafka consume → produce loop moving `--relay` messages of the same size
   as a complaint from one topic to another — what the broker and client alone can do here;
2. **throughput**: after a 300-complaint warm-up that estimates the rate, enough complaints to
   keep the pipeline busy for at least `--min-seconds` are published at once; complaints per
   second from the first publish to the last customer acknowledgement delivered at the local SMS
   receiver;
3. **latency**: complaints at a fixed `--rate` for `--seconds`; per complaint, publish → its
   acknowledgement delivered.

After the throughput run, once every consumer group's lag is back to zero (not merely at the
last acknowledgement: receipts and clock stops still flow then), it prints per stage the batched
MongoDB operations and the single-document commands per complaint, then

    ops: X mongo operations per complaint, services Y ms CPU per complaint

(X: every operation of the four services; Y: their processes' CPU from /proc). Ends with exactly
one line:

    bench: pipeline X/s, relay Y/s, ratio R, e2e p50 A ms, p99 B ms, lost L
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving
from servicekit.mongo import find_all

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack  # noqa: E402

RELAY_IN, RELAY_OUT = "bench.relay.in", "bench.relay.out"
NO_GAP = timedelta(0)  # received "now": a second apart, thousands would lie in the future


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank quantile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def relay(bootstrap: str, count: int, size: int) -> float:
    """Messages per second through a bare consume → produce relay."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(t, 6, 1) for t in (RELAY_IN, RELAY_OUT) if t not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()
    group = f"bench-relay-{secrets.token_hex(3)}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    consumer = AIOKafkaConsumer(
        RELAY_IN,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():  # noqa: ASYNC110 - polling the client's own state
            await asyncio.sleep(0.1)
        await consumer.seek_to_end()
        payload = b"x" * size
        for i in range(count):
            await producer.send(RELAY_IN, payload, key=str(i).encode())
        await producer.flush()
        moved = 0
        started = time.perf_counter()
        while moved < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            for records in batch.values():
                for record in records:
                    await producer.send(RELAY_OUT, record.value, key=record.key)
                moved += len(records)
            await producer.flush()
            await consumer.commit()
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


Sample = dict[tuple[str, tuple[tuple[str, str], ...]], float]
COUNTED = (
    "complaints_messages_processed_total",
    "complaints_mongo_commands_total",
    "complaints_batch_size_sum",
    "complaints_batch_size_count",
    "complaints_mongo_command_seconds_sum",
    "complaints_mongo_single_commands_total",
    "complaints_consumer_lag_messages",
)
LAG_ENV = {f"{s.upper()}_LAG_INTERVAL_SECONDS": "1" for s in SERVICES}
"""Lag sampled every second in the bench, so "lag zero" is seen soon after it is true."""


REPLICAS = int(os.environ.get("BENCH_REPLICAS", "1"))
"""Processes per service (`--replicas`); replica r of a service listens on its port + 10 r."""


async def scrape(config: StackConfig) -> Sample:
    """The counters of every service, summed over its processes, keyed by name and labels."""
    sample: Sample = {}
    async with httpx.AsyncClient(timeout=5.0) as client:
        for service, r in ((s, r) for s in SERVICES for r in range(REPLICAS)):
            port = config.port(service) + 10 * r
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if s.name in COUNTED:
                        key = (s.name, tuple(sorted(s.labels.items())))
                        sample[key] = sample.get(key, 0.0) + s.value
    return sample


def stage_report(before: Sample, after: Sample, complaints: int, seconds: float) -> list[str]:
    """Per stage: messages/s, batch size, and MongoDB work per complaint: batched operations
    and single-document commands apart, the busiest of each named."""
    delta = {k: v - before.get(k, 0.0) for k, v in after.items()}
    per = max(1, complaints)
    lines = []
    for service in SERVICES:
        mine = {k: v for k, v in delta.items() if dict(k[1]).get("service") == service and v}
        processed = sum(v for k, v in mine.items() if k[0] == COUNTED[0])
        batches = sum(v for k, v in mine.items() if k[0] == COUNTED[3])
        in_batches = sum(v for k, v in mine.items() if k[0] == COUNTED[2])
        waited = sum(v for k, v in mine.items() if k[0] == COUNTED[4])
        ops, singles = _by_command(mine, COUNTED[1]), _by_command(mine, COUNTED[5])
        batched = {name: n - singles.get(name, 0.0) for name, n in ops.items()}
        lines.append(
            f"  {service:<10} {processed / seconds:8,.0f} msg/s"
            f"  batch {in_batches / max(1, batches):5.1f}"
            f"  in mongo {waited / seconds:4.0%}"
            f"  mongo {sum(ops.values()) / per:5.2f}/complaint"
            f"\n      batched {sum(batched.values()) / per:5.2f}: {_top(batched, per)}"
            f"\n      single  {sum(singles.values()) / per:5.2f}: {_top(singles, per)}"
        )
    return lines


def _by_command(mine: Sample, metric: str) -> dict[str, float]:
    return {
        f"{dict(k[1])['command']} {dict(k[1])['collection']}".strip(): v
        for k, v in mine.items()
        if k[0] == metric
    }


def _top(counts: dict[str, float], per: int) -> str:
    ranked = sorted(((n, name) for name, n in counts.items() if n > 0), reverse=True)[:6]
    return ", ".join(f"{name} {n / per:.2f}" for n, name in ranked) or "-"


def operations(before: Sample, after: Sample) -> float:
    """MongoDB operations of every service between the two samples."""
    return sum(v - before.get(k, 0.0) for k, v in after.items() if k[0] == COUNTED[1])


def lag(sample: Sample) -> float:
    """Messages not yet committed, over every service's consumer groups and partitions."""
    return sum(v for k, v in sample.items() if k[0] == COUNTED[6])


async def until_lag_is_zero(config: StackConfig, limit: float = 300.0) -> Sample:
    """Scrape until two samples two seconds apart show no lag (the gauge refreshes every
    second here); the last sample."""
    deadline = time.monotonic() + limit
    sample = await scrape(config)
    while time.monotonic() < deadline:
        await asyncio.sleep(2.0)
        previous, sample = sample, await scrape(config)
        if lag(previous) == 0 and lag(sample) == 0:
            return sample
        sys.stderr.write(f"\r[lag] {lag(sample):,.0f} messages behind   ")
    sys.stderr.write("\n[lag] still not zero; measuring anyway\n")
    return sample


def process_cpu(pid: int) -> float:
    """CPU time (user + system) of one process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def services_cpu(pipeline: Pipeline) -> float:
    """CPU seconds the four services' processes have used so far."""
    return sum(process_cpu(p.process.pid) for p in pipeline.processes)


def cpu_seconds(names: tuple[str, ...] = ("ferretdb", "kafka")) -> dict[str, float]:
    """CPU time (user + system) the local servers have used so far, from /proc."""
    return {name: process_cpu(pid) for name in names if (pid := stack.alive(name)) is not None}


def report_wal(when: str) -> None:
    """The local FerretDB's write-ahead logs (bounded by its build: docs/adr/0004, WAL addendum)."""
    sizes = stack.wal_sizes()
    largest = max(sizes.items(), key=lambda item: item[1], default=("-", 0))
    sys.stderr.write(
        f"WAL {when}: {sum(sizes.values()) / 2**20:,.1f} MiB in {len(sizes)} logs, largest "
        f"{largest[1] / 2**20:,.1f} MiB ({largest[0]})\n"
    )


class Acknowledgements:
    """Customer acknowledgements at the receiver, by the external id the bench published.

    A complaint without phone or e-mail on file (some channels carry only a customer number)
    cannot be acknowledged: the notifier records it `failed` with reason `no_contact`. Those are
    settled too, counted apart, and not lost.
    """

    def __init__(self, db: Any, receiver: Receiver) -> None:
        self._complaints = db["complaints"]
        self._notifications = db["notifications"]
        self._receiver = receiver
        self._external: dict[str, str] = {}  # complaint id → external id
        self._seen = 0
        self.no_contact: dict[str, float] = {}  # external id → when found settled

    async def _map(self, complaint_ids: set[str]) -> None:
        fresh = complaint_ids - self._external.keys()
        if fresh:  # an `_id $in` look-up of what is new since the last poll, never a scan
            docs = await find_all(
                self._complaints, {"_id": {"$in": sorted(fresh)}}, {"external_id": 1}
            )
            self._external |= {doc["_id"]: doc["external_id"] for doc in docs}

    async def of_run(self, run_id: str) -> dict[str, float]:
        """external id → arrival time, for this run's complaints acknowledged so far."""
        deliveries = [d for d in self._receiver.deliveries if d.audience == "customer"]
        await self._map({d.complaint_id for d in deliveries[self._seen :]})
        self._seen = len(deliveries)
        failed = await find_all(
            self._notifications,
            {"status": "failed", "reason": "no_contact", "audience": "customer"},
            {"complaint_id": 1},
        )
        await self._map({doc["complaint_id"] for doc in failed})
        now = time.time()
        for doc in failed:
            if (external := self._external.get(doc["complaint_id"])) is not None:
                self.no_contact.setdefault(external, now)
        prefix = f"{run_id}-"
        return {
            self._external[d.complaint_id]: d.at
            for d in deliveries
            if self._external.get(d.complaint_id, "").startswith(prefix)
        }

    def uncontactable(self, run_id: str) -> int:
        """This run's complaints that had no contact to acknowledge to."""
        return sum(1 for external in self.no_contact if external.startswith(f"{run_id}-"))


async def wait_for(
    acks_of: Acknowledgements, run_id: str, *, expected: int, limit: float, label: str
) -> dict[str, float]:
    """Poll until `expected` complaints are settled (or `limit` seconds passed)."""
    deadline = time.monotonic() + limit
    acks = await acks_of.of_run(run_id)
    while len(acks) + acks_of.uncontactable(run_id) < expected and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        acks = await acks_of.of_run(run_id)
        sys.stderr.write(
            f"\r[{label}] {len(acks)}/{expected} acknowledged"
            f" ({acks_of.uncontactable(run_id)} without contact)   "
        )
    sys.stderr.write("\n")
    return acks


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="complaints for the throughput run")
    parser.add_argument("--min-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0, help="complaints/s for latency")
    parser.add_argument("--seconds", type=float, default=30.0, help="latency run length")
    parser.add_argument("--relay", type=int, default=50_000, help="messages through the relay")
    parser.add_argument(
        "--port-base", type=int, default=8000, help="services listen on base+1..4, receiver +25"
    )
    parser.add_argument("--replicas", type=int, default=1, help="processes per service (1-6)")
    args = parser.parse_args()
    global REPLICAS  # noqa: PLW0603 - one setting for the whole run, read by scrape()
    REPLICAS = args.replicas
    stack.up()
    report_wal("before")
    bootstrap = f"127.0.0.1:{stack.PORTS.kafka}"
    sys.stderr.write("relay…\n")
    sample = next(workload.build(run_id="size", count=1, start=datetime.now(UTC))).value
    relay_rate = await relay(bootstrap, args.relay, len(sample))
    sys.stderr.write(f"relay: {relay_rate:,.0f} messages/s\n")

    run_id = f"bench{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(args.port_base + 25)
    config = StackConfig(
        database=f"complaints_{run_id}",
        extra_env=channels | LAG_ENV,
        port_base=args.port_base,
        receiver_port=args.port_base + 25,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    pipeline = Pipeline(config)
    acks_of = Acknowledgements(db, receiver)
    try:
        async with serving(receiver, port=config.receiver_port):
            await skip_backlog(config.kafka, SERVICES)  # not an earlier run's leftovers
            for service, replica in ((s, r) for s in SERVICES for r in range(args.replicas)):
                pipeline.start(service, replica=replica)
            await pipeline.wait_ready()
            # Warm-up: a first estimate sizes the throughput run to last `--min-seconds`.
            warm_id = f"{run_id}w"
            warm = list(
                workload.build(run_id=warm_id, count=300, start=datetime.now(UTC), spacing=NO_GAP)
            )
            began = time.time()
            await workload.publish(warm, bootstrap=config.kafka)
            got = await wait_for(acks_of, warm_id, expected=300, limit=600, label="warm-up")
            estimate = len(got) / max(1e-3, max(got.values(), default=began) - began)
            # A cold warm-up underestimates the rate (seen: 2-3x): size for three times that.
            count = max(args.count, int(estimate * args.min_seconds * 3))
            # Throughput: everything at once, then until the last acknowledgement arrives.
            tp_id = f"{run_id}t"
            messages = list(
                workload.build(run_id=tp_id, count=count, start=datetime.now(UTC), spacing=NO_GAP)
            )
            before = await scrape(config)
            cpu_before = cpu_seconds()
            services_before = services_cpu(pipeline)
            started = time.time()
            await workload.publish(messages, bootstrap=config.kafka)
            acks = await wait_for(acks_of, tp_id, expected=count, limit=1800, label="throughput")
            span = (max(acks.values()) - started) if acks else float("nan")
            settled = len(acks) + acks_of.uncontactable(tp_id)
            pipeline_rate = settled / span if acks else 0.0
            lost = count - settled
            sys.stderr.write(
                f"throughput: {len(acks):,} of {count:,} acknowledged "
                f"(+{acks_of.uncontactable(tp_id)} without contact) in {span:,.1f} s "
                f"= {pipeline_rate:,.1f}/s\n"
            )
            after = await until_lag_is_zero(config)
            services_used = services_cpu(pipeline) - services_before
            stages = stage_report(before, after, count, span)
            servers = ", ".join(
                f"{name} {(used - cpu_before.get(name, 0.0)) / max(1, count) * 1000:.2f} ms"
                for name, used in cpu_seconds().items()
            )
            sys.stderr.write(
                "per stage (throughput run, until consumer lag was zero):\n"
                + "\n".join(stages)
                + f"\n  server CPU per complaint: {servers}\n"
            )
            ops_line = (
                f"ops: {operations(before, after) / max(1, count):.1f} mongo operations per"
                f" complaint, services {services_used / max(1, count) * 1000:.2f} ms CPU per"
                " complaint"
            )
            # Latency at a fixed, moderate rate.
            lat_id = f"{run_id}l"
            total = int(args.rate * args.seconds)
            sent_at: dict[str, float] = {}
            batch = max(1, int(args.rate / 10))
            tick = time.monotonic()
            lat_messages = list(
                workload.build(run_id=lat_id, count=total, start=datetime.now(UTC), spacing=NO_GAP)
            )
            for start in range(0, total, batch):
                chunk = lat_messages[start : start + batch]
                now = time.time()
                sent_at.update({m.external_id: now for m in chunk})
                await workload.publish(chunk, bootstrap=config.kafka)
                tick += 0.1
                await asyncio.sleep(max(0.0, tick - time.monotonic()))
            lat_acks = await wait_for(acks_of, lat_id, expected=total, limit=600, label="latency")
            lost += total - len(lat_acks) - acks_of.uncontactable(lat_id)
            latencies = [(lat_acks[x] - sent_at[x]) * 1000 for x in lat_acks if x in sent_at]
            report_wal("after")
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(ops_line)
    print(
        f"bench: pipeline {pipeline_rate:,.0f}/s, relay {relay_rate:,.0f}/s, "
        f"ratio {pipeline_rate / relay_rate:.3f}, e2e p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, "
        f"lost {lost}" + (f", replicas {args.replicas}" if args.replicas > 1 else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
