"""Soak: the whole pipeline at a steady rate with staff actions mixed in, watched every minute.

On the real local stack (started if needed): complaints at `--rate` per second for `--minutes`,
and for a `--staff-share` of them a manager works the case through the case API (assigned,
contacted, resolved, callback, closed). Each minute prints one line per minute:

    soak: minute M, sent N (R/s), stored S, rss intake A MB classifier B MB sla C MB notifier D MB
          kafka E MB ferretdb F MB, db G MB (H KB per stored complaint) + wal W MB, lag L

and at the end the growth of every process's resident anonymous memory (`RssAnon`: heaps and
stacks, not mapped files) after the warm-up (the first
`--warmup` minutes) and in how many minutes the consumer lag was under one second of input.
Memory that keeps growing with the number of complaints is a leak; the database file may grow
by what the stored complaints explain: its size is divided by the complaints stored (the SLA's
cases), not by those sent, and the write-ahead log is shown apart (it is checkpointed, bounded).

The workload's complaints fall on a few categories and areas, so at 100/s the shipped
mass-incident thresholds (20 complaints about one issue in 30 minutes) are crossed every minute:
a soak with them is a sustained incident storm (session 12: 19 incidents, 18,345 members in 12
minutes, the pipeline storing ~20 complaints/s). Like `make bench`, the soak therefore runs the
pack with thresholds no burst reaches (`pipeline_workload.ordinary_policies`); `--storm` keeps
the shipped ones (`make bench-storm` measures the storm's cost).

A script, not a test (`make soak`): it runs for half an hour by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pipeline_workload import ordinary_policies  # bench/, beside this script
from pymongo import AsyncMongoClient
from soak_staff import MANAGER_KEY, Staff, watch_clocks
from soak_verdict import summarise

from complaints_cli import workload
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import local_endpoints, serving
from complaints_cli.status import read_offsets
from contracts import Topic
from servicekit.kafka import tool_client_kwargs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident anonymous memory of one process (and not its children), MB: its heaps and stacks.

    Not VmRSS: FerretDB reads its database through a memory map (docs/adr/0036), and every page
    of the file it touched counts in VmRSS (once per pooled connection's mapping) although it is
    the kernel's page cache, shared and reclaimable, and grows with the database by design. A
    leak is anonymous memory; the database's own growth is the `db` column."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def server_pids() -> dict[str, int]:
    """Kafka and FerretDB as the local stack started them."""
    out = {}
    for name in ("kafka", "ferretdb"):
        pid = stack.alive(name)
        if pid:
            out[name] = pid
    return out


def database_bytes(database: str) -> tuple[int, int]:
    """Bytes of the local FerretDB's files for one database: the SQLite file (the data and its
    indexes), and its write-ahead log with the shared memory (transient: checkpointed)."""
    data = stack.STATE / "ferretdb-data"
    main = data / f"{database}.sqlite"
    logs = [data / f"{database}.sqlite-wal", data / f"{database}.sqlite-shm"]
    size = main.stat().st_size if main.is_file() else 0
    return size, sum(p.stat().st_size for p in logs if p.is_file())


async def stored_complaints(mongo: str, database: str) -> int:
    """Complaints the pipeline has stored so far (the SLA's cases): what the files must explain,
    not what was sent (a pipeline behind holds the rest in Kafka, not in the database)."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo)
    try:
        return await client[database]["cases"].estimated_document_count()
    finally:
        await client.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="complaints per second")
    parser.add_argument("--staff-share", type=float, default=0.2, help="cases worked by staff")
    parser.add_argument("--warmup", type=float, default=3.0, help="minutes before memory counts")
    parser.add_argument("--port-base", type=int, default=8100)
    parser.add_argument("--storm", action="store_true", help="shipped thresholds: incidents form")
    args = parser.parse_args()
    stack.up()
    run_id = f"soak{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(args.port_base + 25)
    keys = {MANAGER_KEY: {"staff_id": "soak-manager", "role": "manager"}}
    config = StackConfig(
        database=f"complaints_{run_id}",
        port_base=args.port_base,
        receiver_port=args.port_base + 25,
        extra_env=channels | {"SLA_API_KEYS": json.dumps(keys)},
        policy_dir=ROOT / "policies" if args.storm else ordinary_policies(),
    )
    pipeline = Pipeline(config)
    staff = Staff(api=f"http://127.0.0.1:{config.port('sla')}", share=args.staff_share)
    rows: list[dict[str, float]] = []
    try:
        async with serving(receiver, port=config.receiver_port):
            await skip_backlog(config.kafka, SERVICES)  # not an earlier run's leftovers
            pipeline.start_all()
            await pipeline.wait_ready()
            load = Load(run_id=run_id, rate=args.rate, bootstrap=config.kafka)
            tasks = [
                asyncio.create_task(load.run()),
                asyncio.create_task(watch_clocks(config.kafka, staff)),
                asyncio.create_task(staff.run()),
            ]
            try:
                began = time.monotonic()
                for minute in range(1, int(args.minutes) + 1):
                    # Ticks on the clock, not 60 s after the last report: a report takes seconds
                    # (a busy broker, a count), and session 12's minutes drifted by that much.
                    await asyncio.sleep(max(0.0, began + 60.0 * minute - time.monotonic()))
                    rows.append(await report(minute, load.sent, pipeline, config))
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        pipeline.stop_all()
    return summarise(rows, warmup=args.warmup, staff=staff)


@dataclass
class Load:
    """Complaints at a steady rate: each second tops the count up to rate × elapsed time."""

    run_id: str
    rate: float
    bootstrap: str
    sent: int = 0

    async def run(self) -> None:
        """Publish until cancelled."""
        producer = AIOKafkaProducer(
            **tool_client_kwargs(self.bootstrap), acks="all", enable_idempotence=True
        )
        await producer.start()
        began = time.monotonic()
        try:
            while True:
                due = int(self.rate * (time.monotonic() - began)) - self.sent
                if due > 0:
                    start = datetime.now(UTC)
                    batch = workload.build(
                        run_id=f"{self.run_id}-{self.sent}", count=due, start=start
                    )
                    for message in batch:
                        await producer.send(Topic.RAW.value, message.value, key=message.key)
                    self.sent += due
                await asyncio.sleep(0.2)
        finally:
            await producer.stop()


async def services_lag(bootstrap: str, attempts: int = 3) -> float:
    """The services' groups' lag, as `complaints status` reads it; NaN if the busy broker does not
    answer in three tries (a minute's line says so rather than the soak dying at minute one)."""
    for _ in range(attempts):
        try:
            return float(sum(g.lag for g in await read_offsets(bootstrap) if g.group in SERVICES))
        except (KafkaError, TimeoutError):
            await asyncio.sleep(1.0)
    return float("nan")


async def report(
    minute: int, sent: int, pipeline: Pipeline, config: StackConfig
) -> dict[str, float]:
    """One minute's figures, printed and returned."""
    row: dict[str, float] = {"minute": minute, "sent": sent}
    for proc in pipeline.processes:
        row[proc.name] = rss_mb(proc.process.pid)
    for name, pid in server_pids().items():
        row[name] = rss_mb(pid)
    main, wal = database_bytes(config.database)
    row["db_mb"], row["wal_mb"] = main / 2**20, wal / 2**20
    row["stored"] = float(await stored_complaints(config.mongo, config.database))
    # The services' own consumer groups, as `complaints status` reads them.
    row["lag"] = await services_lag(config.kafka)
    per = main / 1024 / max(1.0, row["stored"])
    memory = " ".join(
        f"{name} {row[name]:.0f} MB" for name in (*SERVICES, "kafka", "ferretdb") if name in row
    )
    print(
        f"soak: minute {minute}, sent {sent:,} ({sent / (60 * minute):.0f}/s), "
        f"stored {row['stored']:,.0f}, rss {memory}, "
        f"db {row['db_mb']:.1f} MB ({per:.1f} KB per stored complaint) + wal "
        f"{row['wal_mb']:.1f} MB, lag {row['lag']:.0f}",
        flush=True,
    )
    return row


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(asyncio.run(main()))
