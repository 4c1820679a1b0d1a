"""One complaint through the four service processes on the real stack: the e2e tests' shared run."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli import workload
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving
from tests._builders.case_api import ORIGIN

Json = dict[str, Any]


@dataclass(frozen=True)
class OneRun:
    """The running pipeline of one complaint: its settings, database and notification receiver."""

    config: StackConfig
    db: AsyncDatabase[Json]
    receiver: Receiver

    @property
    def sla_url(self) -> str:
        """Where the SLA service's case API listens."""
        return f"http://127.0.0.1:{self.config.port('sla')}"


@asynccontextmanager
async def one_complaint(
    label: str, staff: Mapping[str, object], *, scale: float = 1.0
) -> AsyncIterator[OneRun]:
    """Start the services on a fresh database (business time from ORIGIN at `scale`), with the
    staff keys and a receiver for the channels; publish one complaint; drop everything after."""
    run_id = f"{label}{datetime.now(UTC):%H%M%S}{secrets.token_hex(2)}"
    receiver, channels = local_endpoints(8025)
    config = StackConfig(
        database=f"complaints_{run_id}",
        time_scale=scale,
        time_origin=ORIGIN.isoformat(),
        extra_env={**channels, "SLA_API_KEYS": json.dumps(staff), "SLA_CENSUS_SECONDS": "0"},
    )
    client: AsyncMongoClient[Json] = AsyncMongoClient(config.mongo, tz_aware=True)
    await client.drop_database(config.database)
    pipeline = Pipeline(config)
    try:
        async with serving(receiver, port=config.receiver_port):
            pipeline.start_all()
            await pipeline.wait_ready()
            real = (datetime.now(UTC) - datetime.fromisoformat(config.time_anchor)).total_seconds()
            received = ORIGIN + timedelta(seconds=real * scale)
            [message] = workload.build(run_id=run_id, count=1, start=received)
            await workload.publish([message], bootstrap=config.kafka)
            yield OneRun(config, client[config.database], receiver)
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()
