"""The whole-pipeline bench's figures: service counters, consumer lag, CPU from /proc, WAL sizes."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
import stack

Sample = dict[tuple[str, tuple[tuple[str, str], ...]], float]
COUNTED = (
    "complaints_messages_processed_total",
    "complaints_mongo_commands_total",
    "complaints_batch_size_sum",
    "complaints_batch_size_count",
    "complaints_mongo_command_seconds_sum",
    "complaints_mongo_single_commands_total",
    "complaints_consumer_lag_messages",
    "faststream_received_processed_messages_duration_seconds_sum",
    "faststream_received_processed_messages_duration_seconds_count",
)
LAG_ENV = {f"{s.upper()}_LAG_INTERVAL_SECONDS": "1" for s in SERVICES}
"""Lag sampled every second in the bench, so "lag zero" is seen soon after it is true."""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def scrape(config: StackConfig, replicas: int, attempts: int = 5) -> Sample:
    """The counters of every service, summed over its processes, keyed by name and labels; a
    busy service that does not answer within 15 s is asked again (`attempts` times in all)."""
    for attempt in range(1, attempts + 1):
        try:
            return await _scrape(config, replicas)
        except httpx.HTTPError as error:
            sys.stderr.write(f"\n[metrics] no answer ({type(error).__name__}), try {attempt}\n")
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def _scrape(config: StackConfig, replicas: int) -> Sample:
    sample: Sample = {}
    async with httpx.AsyncClient(timeout=15.0) as client:
        for service, r in ((s, r) for s in SERVICES for r in range(replicas)):
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


def handler_lines(before: Sample, after: Sample) -> list[str]:
    """Per service and topic between the samples: batches handled, their mean size (per
    service) and how long one took (FastStream's handler duration), and the time in MongoDB."""
    delta = {k: v - before.get(k, 0.0) for k, v in after.items()}
    lines = []
    for service in SERVICES:

        def total(metric: str, label: str = "service", who: str = service) -> float:
            return sum(
                v for k, v in delta.items() if k[0] == metric and dict(k[1]).get(label) == who
            )

        batches = total(COUNTED[3])
        if not batches:
            continue
        handlers = sorted(
            {dict(k[1])["handler"] for k in delta if k[0] == COUNTED[8] and delta[k] > 0}
        )
        each = []
        for handler in handlers:
            mine = {k: v for k, v in delta.items() if dict(k[1]).get("handler") == handler}
            mine = {k: v for k, v in mine.items() if dict(k[1]).get("app_name") == service}
            count = sum(v for k, v in mine.items() if k[0] == COUNTED[8])
            seconds = sum(v for k, v in mine.items() if k[0] == COUNTED[7])
            if count:
                each.append(
                    f"{handler.split(':')[-1]} {count:,.0f}x {seconds / count * 1000:,.0f} ms"
                )
        lines.append(
            f"    {service:<10} batch {total(COUNTED[2]) / batches:5.1f}, in mongo"
            f" {total(COUNTED[4]) / batches * 1000:5.0f} ms per batch; " + ", ".join(each)
        )
    return lines


def operations(before: Sample, after: Sample) -> float:
    """MongoDB operations of every service between the two samples."""
    return sum(v - before.get(k, 0.0) for k, v in after.items() if k[0] == COUNTED[1])


def lag(sample: Sample) -> float:
    """Messages not yet committed, over every service's consumer groups and partitions."""
    return sum(v for k, v in sample.items() if k[0] == COUNTED[6])


async def until_lag_is_zero(
    scraper: Callable[[], Awaitable[Sample]], limit: float = 300.0
) -> tuple[Sample, bool]:
    """Scrape until two samples two seconds apart show no lag (the gauge refreshes every
    second here) or `limit` seconds pass; the last sample and whether lag reached zero."""
    deadline = time.monotonic() + limit
    sample: Sample = await scraper()
    while time.monotonic() < deadline:
        await asyncio.sleep(2.0)
        previous, sample = sample, await scraper()
        if lag(previous) == 0 and lag(sample) == 0:
            sys.stderr.write("\n")
            return sample, True
        sys.stderr.write(f"\r[lag] {lag(sample):,.0f} messages behind   ")
    sys.stderr.write(f"\n[lag] still {lag(sample):,.0f} behind after {limit:.0f} s (the bound)\n")
    return sample, False


def process_cpu(pid: int) -> float:
    """CPU time (user + system) of one process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def services_cpu(pipeline: Pipeline) -> float:
    """CPU seconds the four services' processes have used so far."""
    return sum(each_service_cpu(pipeline).values())


def each_service_cpu(pipeline: Pipeline) -> dict[str, float]:
    """CPU seconds each service (all its replicas) has used so far."""
    used: dict[str, float] = {}
    for proc in pipeline.processes:
        used[proc.name] = used.get(proc.name, 0.0) + process_cpu(proc.process.pid)
    return used


def cpu_seconds(names: Sequence[str] = ("ferretdb", "kafka")) -> dict[str, float]:
    """CPU time (user + system) the local servers have used so far, from /proc."""
    return {name: process_cpu(pid) for name in names if (pid := stack.alive(name)) is not None}


def report_wal(when: str, database: str = "") -> None:
    """The local FerretDB's write-ahead logs (bounded by its build: docs/adr/0004, WAL addendum):
    this run's database apart from the logs other databases left behind."""
    sizes = stack.wal_sizes()
    own = sizes.pop(database, 0) if database else 0
    largest = max(sizes.items(), key=lambda item: item[1], default=("-", 0))
    mine = f"this run's database {own / 2**20:,.1f} MiB; " if database else ""
    sys.stderr.write(
        f"WAL {when}: {mine}other databases {sum(sizes.values()) / 2**20:,.1f} MiB in"
        f" {len(sizes)} logs, largest {largest[1] / 2**20:,.1f} MiB ({largest[0]})\n"
    )
