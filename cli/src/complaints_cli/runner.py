"""One pipeline run on the local stack: start services, feed a workload, watch it land, report."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli import workload
from complaints_cli.arrivals import Backpressure
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, serving
from complaints_cli.staff_feed import StaffFeed
from complaints_cli.stages import StageCounts, count

if TYPE_CHECKING:
    from complaints_cli.staff import StaffDemo


@dataclass(frozen=True)
class RunOptions:
    """What to run."""

    count: int = 240
    timeout: float = 180.0
    progress: bool = True
    label: str = "run"
    time_scale: float = 1.0
    inspect: Callable[[AsyncDatabase[Any]], Awaitable[None]] | None = None
    """Called with the run's database once the run is complete, before it is dropped."""


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total if total else width
    return "█" * filled + "░" * (width - filled)


def show_progress(counts: StageCounts, elapsed: float, label: str) -> None:
    """One refreshed line per second on stderr."""
    sys.stderr.write(
        f"\r[{label}] {elapsed:5.1f}s  normalized {_bar(counts.normalized, counts.sent)} "
        f"{counts.normalized}/{counts.sent}  classified {counts.classified}  "
        f"deadlines {counts.with_deadlines}/{counts.expected_deadlines}  "
        f"acknowledged {counts.acknowledged}/{counts.expected_acks}   "
    )
    sys.stderr.flush()


def _config(
    options: RunOptions, run_id: str, channels: dict[str, str], staff: StaffDemo | None
) -> StackConfig:
    database = f"complaints_{run_id}" if options.label == "e2e" else "complaints_demo"
    if staff is None:
        return StackConfig(database=database, time_scale=options.time_scale, extra_env=channels)
    return StackConfig(
        database=database,
        time_scale=staff.scale,
        time_origin=staff.origin.isoformat(),
        time_anchor_file=str(staff.anchor_file),
        time_plan=staff.time_plan,
        extra_env=channels | staff.env(),
    )


async def _arrive(
    staff: StaffDemo, run_id: str, count: int, kafka: str, receiver: Receiver
) -> asyncio.Task[int]:
    """From the business day's opening, complaints arrive evenly over `staff.arrive_s` real
    seconds (a morning): a pipeline handed them all at once queued them for hours of business
    time, and every staff step then fell due at once. The next one waits while the pipeline is
    behind (`arrivals.Backpressure`)."""
    await asyncio.sleep(max(0.0, staff.clock.real_seconds_until(staff.opening)))
    backpressure = Backpressure(receiver)

    async def arrivals() -> int:
        sent = await workload.publish_paced(
            run_id=run_id,
            count=count,
            clock=staff.clock,
            over_s=staff.arrive_s,
            bootstrap=kafka,
            hold=backpressure.hold,
        )
        if backpressure.held_s:
            sys.stderr.write(f"\n[demo] {backpressure.note()}\n")
        return sent

    return asyncio.create_task(arrivals(), name="demo-arrivals")


@dataclass(frozen=True)
class Landing:
    """What to watch while the workload lands."""

    db: AsyncDatabase[Any]
    receiver: Receiver
    pipeline: Pipeline
    run_id: str
    sent: int
    publishing: asyncio.Task[int] | None  # paced arrivals still being sent


async def _land(watch: Landing, options: RunOptions) -> StageCounts:
    """Count the stages each second until every complaint is where it should be (or timeout)."""
    started = time.monotonic()

    async def counted() -> StageCounts:
        return await count(watch.db, watch.receiver, run_id=watch.run_id, sent=watch.sent)

    counts = await counted()
    arriving = watch.publishing
    while (
        not counts.complete or (arriving is not None and not arriving.done())
    ) and time.monotonic() - started < options.timeout:
        if crashed := watch.pipeline.crashed():
            raise RuntimeError(f"{crashed[0].name} crashed; see {crashed[0].log_path}")
        if options.progress:
            show_progress(counts, time.monotonic() - started, options.label)
        await asyncio.sleep(2.0)  # each look reads three collections whole: not too often
        counts = await counted()
    if arriving is not None:
        await arriving  # its failure, if any, ends the run here
    await asyncio.sleep(2.0)  # let late duplicates (if any) arrive before the final count
    counts = await counted()
    if options.progress:
        show_progress(counts, time.monotonic() - started, options.label)
        sys.stderr.write("\n")
    return counts


async def run(options: RunOptions, *, staff: StaffDemo | None = None) -> StageCounts:
    """Start the services, publish the workload, wait until it lands or times out.

    With `staff`, the services run on the staff demo's compressed clock, and simulated staff work
    the cases through the case API from the moment the workload is published.
    """
    run_id = f"{options.label}{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(2)}"
    sms_secret, hook_secret = secrets.token_hex(16), secrets.token_hex(16)
    channels = {"NOTIFIER_SMS_GATEWAY_SECRET": sms_secret, "NOTIFIER_WEBHOOK_SECRET": hook_secret}
    config = _config(options, run_id, channels, staff)
    receiver = Receiver(secrets={"/sms": sms_secret.encode(), "/webhook": hook_secret.encode()})
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    # A fresh database per run: FerretDB's SQLite backend scans whole collections, so a database
    # that grows run after run would slow every later run down.
    await client.drop_database(config.database)
    pipeline = Pipeline(config)
    complete = False
    feed: StaffFeed | None = None
    try:
        async with serving(receiver, port=config.receiver_port):
            if options.label == "demo":  # its database starts empty: so do its consumer groups
                skipped = await skip_backlog(config.kafka, SERVICES)
                if skipped and options.progress:
                    sys.stderr.write(f"[demo] skipped {skipped:,} messages of an earlier run\n")
            pipeline.start_all()
            await pipeline.wait_ready()
            publishing: asyncio.Task[int] | None = None
            if staff:
                feed = StaffFeed(config.kafka)
                await feed.start()  # at the topics' end: before anything is published
                staff.start(api=f"http://127.0.0.1:{config.port('sla')}", feed=feed)
                publishing = await _arrive(staff, run_id, options.count, config.kafka, receiver)
                sent = options.count
            else:
                received = datetime.now(UTC)
                messages = list(workload.build(run_id=run_id, count=options.count, start=received))
                sent = await workload.publish(messages, bootstrap=config.kafka)
            counts = await _land(Landing(db, receiver, pipeline, run_id, sent, publishing), options)
            complete = counts.complete and counts.duplicated == 0
            if options.inspect and complete:
                await options.inspect(db)
            if staff:
                await staff.finish(db, progress=options.progress)
            return counts
    finally:
        if staff:
            await staff.stop()
        if feed is not None:
            await feed.stop()
        pipeline.stop_all()
        if options.label == "e2e" and complete:
            await client.drop_database(config.database)
        elif options.label == "e2e":
            sys.stderr.write(
                f"[e2e] incomplete run: database {config.database} kept for "
                f"inspection, logs in {config.log_dir}\n"
            )
        await client.close()
