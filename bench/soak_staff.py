"""The soak's staff (`soak.py`): a manager who works a share of the cases through the case API.

Each complaint whose clocks are set (`complaints.sla.v1`) may become a case the manager works, one
step of `SCRIPT` at a time, each only once the case API says the one before was applied.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer

from contracts import Topic

MANAGER_KEY = secrets.token_urlsafe(24)
# A closed case's script: each step a second or more after the one before.
SCRIPT: tuple[tuple[str, dict[str, object]], ...] = (
    ("assigned", {"assignee": "handler-01", "department": "billing"}),
    ("contacted", {}),
    ("resolved", {"result": "查明原因，已按规定处理"}),
    ("callback_done", {"satisfaction": "satisfied"}),
    ("closed", {"verdict": "upheld", "root_cause": "soak"}),
)


@dataclass
class Staff:
    """A manager who works a share of the cases through the case API, as staff do: the next step
    only once the case API says the previous one was applied."""

    api: str
    share: float
    per_tick: int = 100
    due: dict[str, tuple[float, int]] = field(default_factory=dict)  # case → (next at, step)
    posted: int = 0
    answers: Counter[int] = field(default_factory=Counter)

    def take(self, complaint_id: str) -> None:
        """Work this case (if it falls in the share) starting a few seconds from now."""
        if random.random() < self.share:
            self.due.setdefault(complaint_id, (time.monotonic() + 3.0, 0))

    async def run(self) -> None:
        """Work cases until cancelled."""
        headers = {"X-Api-Key": MANAGER_KEY}
        async with httpx.AsyncClient(headers=headers, timeout=10.0) as client:
            while True:
                await self.act(client)
                await asyncio.sleep(0.5)

    async def act(self, client: httpx.AsyncClient) -> None:
        """Advance every case whose turn has come (at most `per_tick`, concurrently)."""
        now = time.monotonic()
        ready = [cid for cid, (at, _step) in self.due.items() if at <= now][: self.per_tick]
        await asyncio.gather(*(self._advance(client, cid) for cid in ready))

    async def _advance(self, client: httpx.AsyncClient, cid: str) -> None:
        try:
            await self._step(client, cid)
        except httpx.TransportError:  # the service is busy or restarting: try again later
            self.answers[0] += 1
            self.due[cid] = (time.monotonic() + 2.0, self.due[cid][1])

    async def _step(self, client: httpx.AsyncClient, cid: str) -> None:
        _at, step = self.due[cid]
        if step > 0:  # has the previous step been applied?
            state = await client.get(f"{self.api}/cases/{cid}/actions/soak-{cid}-{step - 1}")
            if state.status_code == 202:  # still pending: the pipeline is behind
                self.due[cid] = (time.monotonic() + 1.0, step)
                return
            if state.status_code != 200:
                del self.due[cid]
                return
            if step == len(SCRIPT):
                del self.due[cid]  # closed
                return
        action, fields = SCRIPT[step]
        body = {"action": action, "action_id": f"soak-{cid}-{step}", **fields}
        answer = await client.post(f"{self.api}/cases/{cid}/actions", json=body)
        self.posted += 1
        self.answers[answer.status_code] += 1
        if answer.status_code >= 400:
            del self.due[cid]  # not a complaint case (yet), or refused: staff move on
        else:
            self.due[cid] = (time.monotonic() + 1.0 + random.random(), step + 1)


async def watch_clocks(bootstrap: str, staff: Staff) -> None:
    """Every complaint whose clocks are set becomes a case the staff may work."""
    consumer = AIOKafkaConsumer(
        Topic.SLA.value,
        bootstrap_servers=bootstrap,
        group_id=f"soak-{secrets.token_hex(3)}",
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("data", {}).get("event") == "set":
                        staff.take(event["data"]["complaint_id"])
    finally:
        await consumer.stop()
