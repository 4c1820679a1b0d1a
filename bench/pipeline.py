"""End-to-end pipeline throughput and latency against a bare Kafka relay on the same broker.

On the real local stack (Kafka + FerretDB, started if needed):
1. **relays**: a bare aiokafka consume → produce loop moving `--relay` complaints from one topic
   to another — what the broker and client alone can do here; then the durable relay, which also
   inserts each consumed batch into FerretDB (one unordered `insert_many`) before producing it —
   the least any store-then-publish stage pays on this server;
2. **throughput**: after a 300-complaint warm-up that estimates the rate, enough complaints to
   keep the pipeline busy for at least `--min-seconds` are published at once; complaints per
   second from the first publish to the last customer acknowledgement delivered at the local SMS
   receiver;
3. **latency**: complaints at a fixed `--rate` for `--seconds`, one by one at even intervals;
   per complaint, publish → its acknowledgement delivered, and the time of each hop (intake,
   classifier, SLA, notifier up to the delivery, receipt after it: `pipeline_hops`). `--curve
   50,100,150` runs those rates first, each as long, for the latency curve. Each run starts once
   the services are idle again (the throughput phase's after-work, e.g. rate-limited staff
   messages, done; bounded by `--settle-limit`, and the line says what it started with);
   `--no-settle` starts at once (`pipeline_latency`).

Every wait has a bound and says when it stopped at it. The workload is ordinary complaints that
form no mass incident (`pipeline_workload`: thresholds calibrated to the bench's volume; the run
fails if one opened); `--storm` keeps the shipped thresholds, so incidents form and their fan-out
is measured on its own (no latency phase unless `--seconds` is given).

After the throughput run, once every consumer group's lag is back to zero (not merely at the
last acknowledgement: receipts and clock stops still flow then), it prints per stage the batched
MongoDB operations and the single-document commands per complaint, and at once

    ops: X mongo operations per complaint, services Y ms CPU per complaint

(X: every operation of the four services; Y: their processes' CPU from /proc). Ends with

    incidents: N opened
    bench: pipeline X/s, relay Y/s, ratio R, durable relay D/s, ratio S, e2e p50 A ms, p99 B ms,
    lost L

(R: the pipeline against the bare relay; S: against the durable one.)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import secrets
import shutil
import sys
from datetime import UTC, datetime
from typing import Any

import kafka_requests
import pipeline_figures as figures
import pipeline_latency as latency
import pipeline_phases as phases
from pipeline_seed import seed
from pipeline_seed_cases import seed_cases
from pipeline_workload import ROOT, ordinary_policies, relay
from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import local_endpoints, serving

sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="complaints for the throughput run")
    parser.add_argument("--min-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0, help="complaints/s for latency")
    parser.add_argument("--seconds", type=float, default=None, help="latency run (30; storm 0)")
    parser.add_argument(
        "--curve", default="", help="rates (complaints/s, comma-separated) run before --rate"
    )
    parser.add_argument(
        "--settle-limit", type=float, default=60.0, help="longest wait for idle services, s"
    )
    parser.add_argument("--no-settle", action="store_true", help="latency runs start at once")
    parser.add_argument("--relay", type=int, default=50_000, help="messages through the relay")
    parser.add_argument(
        "--port-base", type=int, default=8000, help="services listen on base+1..4, receiver +25"
    )
    parser.add_argument("--replicas", type=int, default=1, help="processes per service (1-6)")
    parser.add_argument("--storm", action="store_true", help="shipped thresholds: incidents form")
    parser.add_argument("--throughput-limit", type=float, default=1800.0, help="bound, seconds")
    parser.add_argument(
        "--seed", type=int, default=0, help="classifications stored before the throughput run"
    )
    parser.add_argument(
        "--seed-cases", type=int, default=0, help="SLA cases stored before the throughput run"
    )
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 0.0 if args.storm else 30.0
    return args


async def throughput(
    args: argparse.Namespace,
    config: StackConfig,
    pipeline: Pipeline,
    acks_of: Any,
    run_id: str,
    *,
    db: Any,
) -> tuple[float, int, int, str]:
    """The throughput phase, then the per-stage figures once lag is zero: (rate, complaints,
    not settled, the `ops:` line)."""
    estimate = await phases.warm_up(acks_of, f"{run_id}w", config.kafka, limit=600.0)
    if args.seed:
        await seed(db, args.seed)
    if args.seed_cases:
        await seed_cases(db, args.seed_cases)
    # A cold warm-up underestimates the rate (seen: 2-3x): size for three times that.
    count = max(args.count, int(estimate * args.min_seconds * 3))
    tp_id = f"{run_id}t"
    messages = list(
        workload.build(run_id=tp_id, count=count, start=datetime.now(UTC), spacing=phases.NO_GAP)
    )
    scrape = functools.partial(figures.scrape, config, args.replicas)
    requests_before = kafka_requests.snapshot()  # first: attaching costs the broker CPU
    threads_before = kafka_requests.threads()
    before = await scrape()
    cpu_before = figures.cpu_seconds()
    services_before = figures.each_service_cpu(pipeline)
    started = datetime.now(UTC).timestamp()
    await workload.publish(messages, bootstrap=config.kafka)
    acks = await phases.wait_for(
        acks_of, tp_id, expected=count, limit=args.throughput_limit, label="throughput"
    )
    span = (max(acks.values()) - started) if acks else float("nan")
    settled = len(acks) + acks_of.uncontactable(tp_id)
    rate = settled / span if acks else 0.0
    sys.stderr.write(
        f"throughput: {len(acks):,} of {count:,} acknowledged "
        f"(+{acks_of.uncontactable(tp_id)} without contact) in {span:,.1f} s = {rate:,.1f}/s\n"
    )
    after, at_zero = await figures.until_lag_is_zero(scrape)
    each_used = {
        name: used - services_before.get(name, 0.0)
        for name, used in figures.each_service_cpu(pipeline).items()
    }
    services_used = sum(each_used.values())
    servers = ", ".join(
        f"{name} {(used - cpu_before.get(name, 0.0)) / max(1, count) * 1000:.2f} ms"
        for name, used in figures.cpu_seconds().items()
    )
    threads = kafka_requests.thread_report(threads_before, kafka_requests.threads(), count)
    requests = kafka_requests.report(requests_before, kafka_requests.snapshot(), max(1, count))
    sys.stderr.write(
        "per stage (throughput run, "
        + ("until consumer lag was zero" if at_zero else "LAG NOT")
        + (" zero):\n" if not at_zero else "):\n")
        + "\n".join(figures.stage_report(before, after, count, span))
        + f"\n  server CPU per complaint: {servers}\n"
        + "  services CPU per complaint: "
        + ", ".join(f"{n} {u / max(1, count) * 1000:.2f} ms" for n, u in each_used.items())
        + f"\n  {requests}\n  {threads}\n"
    )
    ops_line = (
        f"ops: {figures.operations(before, after) / max(1, count):.1f} mongo operations per"
        f" complaint, services {services_used / max(1, count) * 1000:.2f} ms CPU per complaint"
        + ("" if at_zero else " (lag not zero at the bound)")
    )
    print(ops_line, flush=True)
    return rate, count, count - settled, ops_line


async def durable_relay(
    client: AsyncMongoClient[dict[str, Any]], database: str, count: int, sample: bytes
) -> float:
    """The relay that stores each batch in FerretDB before producing it (a database of its own)."""
    sys.stderr.write("durable relay…\n")
    try:
        rate = await relay(
            f"127.0.0.1:{stack.PORTS.kafka}", count, sample, store=client[database]["relayed"]
        )
    finally:
        await client.drop_database(database)
    sys.stderr.write(f"durable relay: {rate:,.0f} messages/s (each batch stored, then produced)\n")
    return rate


async def main() -> int:
    args = arguments()
    stack.up()
    figures.report_wal("before")
    sys.stderr.write("relay…\n")
    sample = next(workload.build(run_id="size", count=1, start=datetime.now(UTC))).value
    relay_rate = await relay(f"127.0.0.1:{stack.PORTS.kafka}", args.relay, sample)
    sys.stderr.write(f"relay: {relay_rate:,.0f} messages/s\n")

    run_id = f"bench{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(args.port_base + 25)
    policies = ROOT / "policies" if args.storm else ordinary_policies()
    config = StackConfig(
        database=f"complaints_{run_id}",
        extra_env=channels | figures.LAG_ENV,
        port_base=args.port_base,
        receiver_port=args.port_base + 25,
        policy_dir=policies,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    durable_rate = await durable_relay(client, f"{config.database}_relay", args.relay, sample)
    pipeline = Pipeline(config)
    acks_of = phases.Acknowledgements(db, receiver)
    try:
        async with serving(receiver, port=config.receiver_port):
            await skip_backlog(config.kafka, SERVICES)  # not an earlier run's leftovers
            for service, replica in ((s, r) for s in SERVICES for r in range(args.replicas)):
                pipeline.start(service, replica=replica)
            await pipeline.wait_ready()
            rate, _, lost, _ = await throughput(args, config, pipeline, acks_of, run_id, db=db)
            rates = [float(r) for r in args.curve.split(",") if r.strip()] + [args.rate]
            runs = await latency.curve(
                acks_of,
                pipeline,
                db,
                f"{run_id}l",
                config.kafka,
                rates=rates if args.seconds else [],
                seconds=args.seconds,
                settle_limit=None if args.no_settle else args.settle_limit,
                scrape=functools.partial(figures.scrape, config, args.replicas),
            )
            latencies = runs[-1].latencies if runs else []
            lost += sum(run.unsettled for run in runs)
            incidents = await db["incidents"].count_documents({})
            figures.report_wal("after", config.database)
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()
        if not args.storm:
            shutil.rmtree(policies.parent, ignore_errors=True)
    p50, p99 = figures.percentile(latencies, 0.5), figures.percentile(latencies, 0.99)
    if len(runs) > 1:
        print("latency curve:\n" + "\n".join(f"  {run.line()}" for run in runs))
    print(f"incidents: {incidents} opened" + (" (storm)" if args.storm else ""))
    print(
        f"bench: pipeline {rate:,.0f}/s, relay {relay_rate:,.0f}/s, "
        f"ratio {rate / relay_rate:.3f}, durable relay {durable_rate:,.0f}/s, "
        f"ratio {rate / durable_rate:.3f}, e2e p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, "
        f"lost {lost}"
        + (" (not acknowledged within the bounds: late or lost)" if lost else "")
        + (f", replicas {args.replicas}" if args.replicas > 1 else "")
    )
    if incidents and not args.storm:
        sys.stderr.write("bench: the ordinary workload opened incidents; it measures no fan-out\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
