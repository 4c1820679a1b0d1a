"""The whole-pipeline bench's phases: waiting for acknowledgements, each wait with its bound."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from complaints_cli import workload
from complaints_cli.receiver import Receiver
from servicekit.mongo import find_all

NO_GAP = timedelta(0)  # received "now": a second apart, thousands would lie in the future


class Acknowledgements:
    """Customer acknowledgements at the receiver, by the external id the bench published.

    A complaint without phone or e-mail on file (some channels carry only a customer number)
    cannot be acknowledged: the notifier records it `failed` with reason `no_contact`. Those are
    settled too, counted apart, and not lost.
    """

    def __init__(self, db: Any, receiver: Receiver) -> None:
        self._complaints = db["complaints"]
        self._notifications = db["notifications"]
        self._receiver = receiver
        self._external: dict[str, str] = {}  # complaint id → external id
        self._seen = 0  # deliveries at the receiver already looked at
        self._acks: dict[str, dict[str, float]] = {}  # run id → external id → first arrival
        self.no_contact: dict[str, float] = {}  # external id → when found settled

    async def _map(self, complaint_ids: set[str]) -> None:
        fresh = complaint_ids - self._external.keys()
        if fresh:  # an `_id $in` look-up of what is new since the last poll, never a scan
            docs = await find_all(
                self._complaints, {"_id": {"$in": sorted(fresh)}}, {"external_id": 1}
            )
            self._external |= {doc["_id"]: doc["external_id"] for doc in docs}

    async def of_run(self, run_id: str) -> dict[str, float]:
        """external id → arrival time, for this run's complaints acknowledged so far.

        Only the deliveries since the last poll are looked at: the bench's receiver shares this
        event loop, and a walk over every delivery of the bench each second (tens of thousands
        after the throughput phase) held the receiver's answers back.
        """
        upto = len(self._receiver.deliveries)
        fresh = [
            d for d in self._receiver.deliveries[self._seen : upto] if d.audience == "customer"
        ]
        self._seen = upto
        await self._map({d.complaint_id for d in fresh})
        for d in fresh:
            if (external := self._external.get(d.complaint_id)) is not None:
                run = self._acks.setdefault(external.rpartition("-")[0], {})
                run.setdefault(external, d.at)
        failed = await find_all(
            self._notifications,
            {"status": "failed", "reason": "no_contact", "audience": "customer"},
            {"complaint_id": 1},
        )
        await self._map({doc["complaint_id"] for doc in failed})
        now = time.time()
        for doc in failed:
            if (external := self._external.get(doc["complaint_id"])) is not None:
                self.no_contact.setdefault(external, now)
        return dict(self._acks.get(run_id, {}))

    def uncontactable(self, run_id: str) -> int:
        """This run's complaints that had no contact to acknowledge to."""
        return sum(1 for external in self.no_contact if external.startswith(f"{run_id}-"))


async def wait_for(
    acks_of: Acknowledgements, run_id: str, *, expected: int, limit: float, label: str
) -> dict[str, float]:
    """Poll until `expected` complaints are settled or `limit` seconds passed (then say so)."""
    deadline = time.monotonic() + limit
    acks = await acks_of.of_run(run_id)
    while len(acks) + acks_of.uncontactable(run_id) < expected and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        acks = await acks_of.of_run(run_id)
        sys.stderr.write(
            f"\r[{label}] {len(acks)}/{expected} acknowledged"
            f" ({acks_of.uncontactable(run_id)} without contact)   "
        )
    settled = len(acks) + acks_of.uncontactable(run_id)
    sys.stderr.write("\n")
    if settled < expected:
        sys.stderr.write(
            f"[{label}] stopped at its bound of {limit:,.0f} s: {expected - settled:,} of"
            f" {expected:,} not acknowledged yet (the bench line counts them as lost and says so)\n"
        )
    return acks


async def warm_up(acks_of: Acknowledgements, run_id: str, bootstrap: str, limit: float) -> float:
    """Acknowledged complaints per second over 300 sent at once (a first, cold estimate)."""
    warm = list(workload.build(run_id=run_id, count=300, start=datetime.now(UTC), spacing=NO_GAP))
    began = time.time()
    await workload.publish(warm, bootstrap=bootstrap)
    got = await wait_for(acks_of, run_id, expected=300, limit=limit, label="warm-up")
    return len(got) / max(1e-3, max(got.values(), default=began) - began)
