"""The four services' CPU while idle: started on the local stack, nothing fed.

    python bench/idle_cpu.py [--seconds 30] [KAFKA__POLL_WAIT_MS=1000 …]

Each `NAME=VALUE` is given to every service as `<SERVICE>_NAME` (e.g. the consumers' poll wait).
After the services are ready and 10 s have passed, prints each one's CPU (from /proc) in ms per
second over `--seconds`, and their sum: the fixed cost of polling, heartbeats and timers that
every complaint shares (ADR 0039). Run it inside the stack's network namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil

from pipeline_figures import cpu_seconds as servers_cpu
from pipeline_workload import ordinary_policies
from pymongo import AsyncMongoClient

from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import local_endpoints


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(seconds: float, settings: list[str]) -> None:
    _, channels = local_endpoints(8025)
    pairs = (a.split("=", 1) for a in settings)
    extra = {f"{s.upper()}_{k}": v for k, v in pairs for s in SERVICES}
    policies = ordinary_policies()
    config = StackConfig(
        database=f"complaints_idle{os.getpid()}", extra_env=channels | extra, policy_dir=policies
    )
    pipeline = Pipeline(config)
    try:
        pipeline.start_all()
        await pipeline.wait_ready()
        await asyncio.sleep(10)  # start-up's own work done
        before = {p.name: cpu_seconds(p.process.pid) for p in pipeline.processes}
        servers_before = servers_cpu()
        await asyncio.sleep(seconds)
        after = {p.name: cpu_seconds(p.process.pid) for p in pipeline.processes}
        servers = {
            k: 1000 * (v - servers_before.get(k, 0.0)) / seconds for k, v in servers_cpu().items()
        }
    finally:
        pipeline.stop_all()
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongo)
        await client.drop_database(config.database)
        await client.close()
        shutil.rmtree(policies.parent, ignore_errors=True)
    per = {name: 1000 * (after[name] - before[name]) / seconds for name in before}
    shown = ", ".join(f"{name} {ms:.1f}" for name, ms in per.items())
    print(f"idle: {shown}; services {sum(per.values()):.1f} ms CPU per second")
    print(
        "servers: "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in servers.items())
        + " ms CPU per second"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("settings", nargs="*", help="NAME=VALUE for every service")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.settings))
