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
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import Receiver, serving
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
        time_anchor=staff.anchor.isoformat(),
        extra_env=channels | staff.env(),
    )


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
    try:
        async with serving(receiver, port=config.receiver_port):
            pipeline.start_all()
            await pipeline.wait_ready()
            received = staff.clock.now() if staff else datetime.now(UTC)
            messages = list(workload.build(run_id=run_id, count=options.count, start=received))
            sent = await workload.publish(messages, bootstrap=config.kafka)
            if staff:
                staff.start(api=f"http://127.0.0.1:{config.port('sla')}")
            started = time.monotonic()
            counts = await count(db, receiver, run_id=run_id, sent=sent)
            while not counts.complete and time.monotonic() - started < options.timeout:
                if crashed := pipeline.crashed():
                    raise RuntimeError(f"{crashed[0].name} crashed; see {crashed[0].log_path}")
                if options.progress:
                    show_progress(counts, time.monotonic() - started, options.label)
                await asyncio.sleep(1.0)
                counts = await count(db, receiver, run_id=run_id, sent=sent)
            # Let late duplicates (if any) arrive before the final count.
            await asyncio.sleep(2.0)
            counts = await count(db, receiver, run_id=run_id, sent=sent)
            if options.progress:
                show_progress(counts, time.monotonic() - started, options.label)
                sys.stderr.write("\n")
            complete = counts.complete and counts.duplicated == 0
            if options.inspect and complete:
                await options.inspect(db)
            if staff:
                await staff.finish(db, progress=options.progress)
            return counts
    finally:
        if staff:
            await staff.stop()
        pipeline.stop_all()
        if options.label == "e2e" and complete:
            await client.drop_database(config.database)
        elif options.label == "e2e":
            sys.stderr.write(
                f"[e2e] incomplete run: database {config.database} kept for "
                f"inspection, logs in {config.log_dir}\n"
            )
        await client.close()
