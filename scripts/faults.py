"""The fault suite (`make faults`): one fault at a time on the real local stack, under steady load.

Each scenario starts the four services on a fresh database, feeds complaints at a steady rate,
injects its fault halfway, then waits for the pipeline to finish and checks the final state of
every complaint in MongoDB and at the notification receiver: normalized, classified, clocks set
for complaints, customer acknowledged — and no notification delivered twice. It prints a table and
ends with exactly one line:

    faults: N scenarios, R recovered, L lost, D duplicate notifications

Usage: `python scripts/faults.py [--only NAME ...] [--count 120] [--seconds 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli import workload
from complaints_cli.backlog import skip_backlog
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving
from complaints_cli.stages import count
from complaints_cli.topics import end_offsets, read_all
from contracts import MessageDeadLettered, Topic
from servicekit.kafka import tool_client_kwargs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack  # noqa: E402  (the local stack's own script: start / stop one server)

sys.path.insert(0, str(ROOT / "scripts"))
import faults_hostile  # noqa: E402  (issue 21: oversized records, list and body floods)
import faults_incidents  # noqa: E402  (issue 17: the notifier killed during an incident's fan-out)
import faults_trace  # noqa: E402  (where a failed scenario's complaints stopped)
from faults_report import Outcome, progress, table  # noqa: E402

PUBLISH_ATTEMPTS = 180
LOGS = ROOT / ".local" / "logs" / "faults"
"""Each scenario's service logs stay in `LOGS/<scenario>/` (the next scenario writes elsewhere)."""
POISON_TOPICS = faults_hostile.INPUT_TOPICS  # every topic a service consumes


@dataclass
class Run:
    """What a scenario's fault can act on."""

    pipeline: Pipeline
    receiver: Receiver
    config: StackConfig
    notes: list[str] = field(default_factory=list)


Fault = Callable[[Run], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    """One fault, injected halfway through the load."""

    name: str
    fault: Fault
    replicas: int = 1
    env: dict[str, str] = field(default_factory=dict)


def kill_and_restart(service: str) -> Fault:
    """SIGKILL the service mid-stream, start it again a moment later."""

    async def fault(run: Run) -> None:
        [victim] = [p for p in run.pipeline.processes if p.name == service and p.replica == 0]
        run.pipeline.kill(victim)
        run.pipeline.processes.remove(victim)
        await asyncio.sleep(2.0)
        run.pipeline.start(service, replica=0)
        run.notes.append(f"{service} killed and restarted")

    return fault


def server_away(server: str, seconds: float, *, start: Callable[[], object], port: int) -> Fault:
    """Stop one of the stack's servers for `seconds`, start it again, wait for its port."""

    async def fault(run: Run) -> None:
        stack.stop(server)
        await asyncio.sleep(seconds)
        start()
        stack.wait_port(server, port, 120.0)
        run.notes.append(f"{server} stopped {seconds:.0f} s")

    return fault


async def channel_down(run: Run) -> None:
    """Every notification channel answers 500 for a minute."""
    run.receiver.fail_with = 500
    await asyncio.sleep(60.0)
    run.receiver.fail_with = None
    run.notes.append("channels down 60 s")


async def kill_one_of_two(run: Run) -> None:
    """Two replicas of every service; replica 1 of each is SIGKILLed (not restarted)."""
    for proc in [p for p in run.pipeline.processes if p.replica == 1]:
        run.pipeline.kill(proc)
        run.pipeline.processes.remove(proc)
    run.notes.append("replica 1 of each service killed")


async def poison_every_topic(run: Run) -> None:
    """A message no service can parse on every input topic; each must be dead-lettered."""
    marker = f"poison-{secrets.token_hex(4)}"
    since = await end_offsets(run.config.kafka, Topic.DLQ)  # not every earlier run's letters
    producer = AIOKafkaProducer(**tool_client_kwargs(run.config.kafka), acks="all")
    await producer.start()
    try:
        for topic in POISON_TOPICS:
            body = json.dumps({"marker": marker, "topic": topic.value, "junk": [1, {"$gt": ""}]})
            await producer.send_and_wait(topic.value, body.encode(), key=b"poison")
    finally:
        await producer.stop()
    await asyncio.sleep(15.0)
    found = await dead_letters_with(run.config.kafka, marker, since)
    run.notes.append(f"poison on {len(POISON_TOPICS)} topics, {len(found)} dead-lettered")
    if missing := {t.value for t in POISON_TOPICS} - set(found):
        raise AssertionError(f"not dead-lettered: {sorted(missing)}")


async def dead_letters_with(
    bootstrap: str, marker: str, since: dict[int, int] | None = None
) -> dict[str, str]:
    """Dead-letter records (after `since`) whose original payload carries `marker`: original
    topic → reason. Read in the process that serves the receiver: a long-lived stack's whole
    dead-letter topic, decoded record by record, would stall the notifier's sends meanwhile."""
    found: dict[str, str] = {}
    async for value in read_all(bootstrap, Topic.DLQ, since):
        letter = MessageDeadLettered.model_validate_json(value).data
        if marker.encode() in base64.b64decode(letter.payload_base64):
            found[letter.original_topic] = f"{letter.service}:{letter.reason}"
    return found


SCENARIOS = (
    *(Scenario(f"kill-{service}", kill_and_restart(service)) for service in SERVICES),
    Scenario(
        "kafka-restart", server_away("kafka", 5.0, start=stack.start_kafka, port=stack.PORTS.kafka)
    ),
    Scenario(
        "ferretdb-30s",
        server_away("ferretdb", 30.0, start=stack.start_ferretdb, port=stack.PORTS.mongo),
    ),
    Scenario("channels-down-60s", channel_down),
    Scenario("two-replicas-one-killed", kill_one_of_two, replicas=2),
    Scenario("poison-every-topic", poison_every_topic),
    Scenario("oversized-every-topic", faults_hostile.oversized_every_topic),
    Scenario("list-flood", faults_hostile.list_flood_during_load, env=faults_hostile.env()),
    Scenario("body-flood-10mb", faults_hostile.body_flood, env=faults_hostile.env()),
    Scenario("sigterm-mid-flood", faults_hostile.sigterm_mid_flood, env=faults_hostile.env()),
    Scenario(
        "notifier-killed-in-incident-fanout",
        faults_incidents.notifier_killed_during_fanout,
        env=faults_incidents.ENV,
    ),
)


async def steady_load(config: StackConfig, run_id: str, *, total: int, seconds: float) -> int:
    """Publish `total` complaints evenly over `seconds`."""
    messages = list(workload.build(run_id=run_id, count=total, start=datetime.now(UTC)))
    chunks = max(1, int(seconds * 2))
    size = max(1, -(-total // chunks))
    sent = 0
    for start in range(0, total, size):
        sent += await publish_until_accepted(messages[start : start + size], config.kafka)
        await asyncio.sleep(seconds / chunks)
    return sent


async def publish_until_accepted(messages: list[workload.RawMessage], bootstrap: str) -> int:
    """A channel keeps what the broker did not take and tries again (intake de-duplicates)."""
    for _ in range(PUBLISH_ATTEMPTS):
        try:
            return await workload.publish(messages, bootstrap=bootstrap)
        except KafkaError:
            await asyncio.sleep(1.0)
    raise RuntimeError(f"the broker did not come back within {PUBLISH_ATTEMPTS} s")


async def run_scenario(
    scenario: Scenario, *, total: int, seconds: float, timeout: float
) -> Outcome:
    """Start the services, load, inject the fault halfway, wait, count."""
    run_id = f"fault{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(8025)
    logs = LOGS / scenario.name
    shutil.rmtree(logs, ignore_errors=True)  # this scenario's previous run only
    config = StackConfig(
        database=f"complaints_{run_id}",
        extra_env={**channels, **scenario.env},
        log_dir=logs,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    pipeline = Pipeline(config)
    run = Run(pipeline, receiver, config)
    started = time.monotonic()
    try:
        async with serving(receiver, port=config.receiver_port):
            for replica in range(scenario.replicas):
                for service in SERVICES:
                    pipeline.start(service, replica=replica)
            await pipeline.wait_ready()
            since = await faults_trace.offsets(config.kafka)
            load = asyncio.create_task(steady_load(config, run_id, total=total, seconds=seconds))
            await asyncio.sleep(seconds / 2)
            try:
                await scenario.fault(run)
            except AssertionError as exc:
                run.notes.append(f"FAILED: {exc}")
            sent = await load
            counts = await count(db, receiver, run_id=run_id, sent=sent)
            while not counts.complete and time.monotonic() - started < timeout:
                await asyncio.sleep(2.0)
                counts = await count(db, receiver, run_id=run_id, sent=sent)
                progress(scenario.name, counts, time.monotonic() - started)
            await asyncio.sleep(3.0)  # late duplicates, if any
            counts = await count(db, receiver, run_id=run_id, sent=sent)
            outcome = Outcome(scenario.name, counts, time.monotonic() - started, tuple(run.notes))
            if not outcome.recovered:
                await explain(run, db, since=since, run_id=run_id, sent=sent, logs=logs)
            return outcome
    finally:
        pipeline.stop_all()
        stack.up()  # whatever the fault left stopped
        await client.drop_database(config.database)
        await client.close()


async def explain(
    run: Run,
    db: AsyncDatabase[dict[str, Any]],
    *,
    since: faults_trace.Offsets,
    run_id: str,
    sent: int,
    logs: Path,
) -> None:
    """A failed scenario: where each missing complaint stopped, and where its logs are."""
    lines = await faults_trace.report(
        db, run.receiver, run_id=run_id, bootstrap=run.config.kafka, since=since, sent=sent
    )
    sys.stderr.write("\n" + "\n".join([*lines, f"  service logs: {logs}"]) + "\n")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--count", type=int, default=120, help="complaints per scenario")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration")
    parser.add_argument("--timeout", type=float, default=240.0, help="per scenario")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    stack.up()  # each scenario's groups start at the topics' end, as its database starts empty
    skipped = await skip_backlog(f"127.0.0.1:{stack.PORTS.kafka}", SERVICES)
    sys.stderr.write(f"skipped {skipped:,} messages an earlier run left unread\n" * bool(skipped))
    outcomes = []
    for scenario in chosen:
        sys.stderr.write(f"\n== {scenario.name}\n")
        run = run_scenario(scenario, total=args.count, seconds=args.seconds, timeout=args.timeout)
        outcomes.append(await run)
    sys.stderr.write("\n")
    print(table(outcomes))
    recovered = sum(1 for o in outcomes if o.recovered)
    lost = sum(o.counts.lost for o in outcomes)
    duplicates = sum(o.counts.duplicated for o in outcomes)
    summary = f"{len(outcomes)} scenarios, {recovered} recovered, {lost} lost, {duplicates}"
    print(f"faults: {summary} duplicate notifications")
    return 0 if recovered == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
