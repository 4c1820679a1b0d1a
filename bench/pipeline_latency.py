"""The whole-pipeline bench's latency phase: what it starts with, a paced run, where time went.

Before a run it looks at what the pipeline is still doing once consumer lag is zero (the
throughput phase's after-work: rate-limited staff messages the notifier sends over minutes, the
SLA's timers): each process's CPU over a few seconds and the notifications waiting in the log.
It prints that, and by default waits (bounded) until the services are idle, so the latency is
what a user meets on a pipeline that is keeping up; `--no-settle` measures at once. Either way
the line says what the run started with.

A run sends complaints one by one at `rate`/s, each at its own time (not in bursts), through
one producer, and per acknowledged complaint reports submit → acknowledgement delivered, and
the time of each hop (`pipeline_hops`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from pipeline_figures import Sample, cpu_seconds, each_service_cpu, handler_lines, percentile
from pipeline_hops import HopWatch, hop_lines
from pipeline_phases import NO_GAP, Acknowledgements, wait_for

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline
from contracts import Topic
from servicekit.kafka import tool_client_kwargs

IDLE_SHARE = 0.07
"""A service using under this share of a core over the sample counts as idle: idle services
measured 1-6 % here (the bench samples lag every second), the notifier sending rate-limited
messages at ~10/s 8 %."""
SAMPLE_S = 3.0
WAITING = ("deferred", "sending")
"""The notifier's rows still to be sent (its dispatcher's statuses)."""


@dataclass
class Run:
    """One latency run: its rate, e2e times (ms), per-hop times (ms), what was not settled."""

    rate: float
    latencies: list[float]
    hops: dict[str, list[float]]
    unsettled: int
    started_with: str

    def line(self) -> str:
        """`rate R/s: e2e p50 A ms, p99 B ms (n), started with …`."""
        p50, p99 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.99)
        return (
            f"rate {self.rate:,.0f}/s: e2e p50 {p50:,.0f} ms, p99 {p99:,.0f} ms"
            f" ({len(self.latencies)} acknowledged, {self.unsettled} not settled);"
            f" started with {self.started_with}"
        )


async def busy(pipeline: Pipeline, db: Any) -> tuple[dict[str, float], str]:
    """Each process's share of a core over `SAMPLE_S` seconds, and the notifications waiting
    (deferred or being sent) in the notifier's log, by why they wait."""
    services, servers = each_service_cpu(pipeline), cpu_seconds()
    began = time.monotonic()
    await asyncio.sleep(SAMPLE_S)
    span = time.monotonic() - began
    shares = {n: (u - services[n]) / span for n, u in each_service_cpu(pipeline).items()}
    shares |= {n: (u - servers.get(n, 0.0)) / span for n, u in cpu_seconds().items()}
    rows = await db["notifications"].aggregate(
        [
            {"$match": {"status": {"$in": list(WAITING)}}},
            {"$group": {"_id": "$reason", "n": {"$sum": 1}}},
        ]
    )
    found = sorted(
        [(row["n"], row["_id"] or "no reason: a claim") async for row in rows], reverse=True
    )
    total = sum(n for n, _ in found)
    why = ", ".join(f"{why} {n}" for n, why in found)
    return shares, f"{total} notifications waiting" + (f" ({why})" if why else "")


def _shares(shares: dict[str, float]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in shares.items())


async def settle(pipeline: Pipeline, db: Any, *, limit: float, wait: bool) -> str:
    """What the pipeline is doing now; with `wait`, first wait (up to `limit` s) until every
    service uses under `IDLE_SHARE` of a core. Returns the words the run's line uses."""
    began = time.monotonic()
    shares, waiting = await busy(pipeline, db)
    first = f"{_shares(shares)} of a core, {waiting}"
    sys.stderr.write(f"[latency] before it: {first}\n")
    if not wait:
        return f"no wait: {first}"
    services = [p.name for p in pipeline.processes]
    while any(shares.get(s, 0.0) >= IDLE_SHARE for s in services):
        if time.monotonic() - began > limit:
            sys.stderr.write(f"[latency] not idle after {limit:.0f} s (the bound); going on\n")
            return f"busy after {limit:.0f} s: {_shares(shares)}, {waiting}"
        shares, waiting = await busy(pipeline, db)
        sys.stderr.write(f"\r[latency] settling: {_shares(shares)}, {waiting}   ")
    waited = time.monotonic() - began
    sys.stderr.write(f"\n[latency] idle after {waited:.0f} s: {_shares(shares)}\n")
    return f"idle after {waited:.0f} s, {waiting}"


async def paced(
    acks_of: Acknowledgements, run_id: str, bootstrap: str, *, rate: float, seconds: float
) -> tuple[list[float], dict[str, list[float]], int]:
    """Complaints at `rate`/s for `seconds`, each sent at its own time; per acknowledged one
    publish → delivery (ms), per hop (ms), and how many were not settled within the bound (the
    run's length plus two minutes)."""
    total = int(rate * seconds)
    if total == 0:
        return [], {}, 0
    client = tool_client_kwargs(bootstrap)
    watch = HopWatch(f"{run_id}-", client)
    await watch.start()
    producer = AIOKafkaProducer(**client, acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    sent_at: dict[str, float] = {}
    messages = list(
        workload.build(run_id=run_id, count=total, start=datetime.now(UTC), spacing=NO_GAP)
    )
    try:
        began = time.monotonic()
        sends = []
        for index, message in enumerate(messages):
            await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
            sent_at[message.external_id] = time.time()
            sends.append(await producer.send(Topic.RAW.value, message.value, key=message.key))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    acks = await wait_for(acks_of, run_id, expected=total, limit=120.0, label="latency")
    await watch.stop()
    unsettled = total - len(acks) - acks_of.uncontactable(run_id)
    latencies = [(acks[x] - sent_at[x]) * 1000 for x in acks if x in sent_at]
    return latencies, watch.passages.hops(sent_at, acks), unsettled


async def curve(
    acks_of: Acknowledgements,
    pipeline: Pipeline,
    db: Any,
    run_id: str,
    bootstrap: str,
    *,
    rates: list[float],
    seconds: float,
    settle_limit: float | None,
    scrape: Callable[[], Awaitable[Sample]],
) -> list[Run]:
    """A latency run per rate (in the order given), each after `settle`; prints each run's line,
    its hops and the services' handler times as it ends (`settle_limit` None: no wait)."""
    runs = []
    for index, rate in enumerate(rates):
        started_with = await settle(
            pipeline, db, limit=settle_limit or 0.0, wait=settle_limit is not None
        )
        before = await scrape()
        latencies, hops, unsettled = await paced(
            acks_of, f"{run_id}{index}", bootstrap, rate=rate, seconds=seconds
        )
        handled = handler_lines(before, await scrape())
        run = Run(rate, latencies, hops, unsettled, started_with)
        sys.stderr.write(
            run.line()
            + "\n  per hop:\n"
            + "\n".join(hop_lines(hops))
            + "\n  in the services (every batch of the run, whatever it held):\n"
            + "\n".join(handled)
            + "\n"
        )
        runs.append(run)
    return runs
