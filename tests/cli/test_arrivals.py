"""The demo's arrivals wait while the pipeline is behind, and only within their budget."""

from __future__ import annotations

import asyncio
import time

from complaints_cli.arrivals import Backpressure
from complaints_cli.receiver import Delivery, Receiver


def ack(receiver: Receiver, complaint_id: str, template: str = "acknowledgement") -> None:
    """The receiver got a customer message for `complaint_id`."""
    receiver.deliveries.append(
        Delivery("/sms", f"k-{complaint_id}", complaint_id, "customer", template, "")
    )


async def test_an_arrival_goes_at_once_while_few_are_unacknowledged() -> None:
    receiver = Receiver(secrets={})
    pressure = Backpressure(receiver, in_flight=3)
    for cid in ("a", "b"):
        ack(receiver, cid)
    await asyncio.wait_for(pressure.hold(4), timeout=1)  # 4 sent, 2 acknowledged: 2 < 3
    assert pressure.held_s < 0.5


async def test_an_arrival_waits_for_the_pipeline_to_acknowledge() -> None:
    receiver = Receiver(secrets={})
    pressure = Backpressure(receiver, in_flight=2)
    ack(receiver, "a")
    receiver.deliveries.append(Delivery("/sms", "s-1", "a", "staff", "new_case", ""))  # not one
    holding = asyncio.create_task(pressure.hold(3))  # 3 sent, 1 acknowledged: waits
    await asyncio.sleep(0.3)
    assert not holding.done()
    ack(receiver, "b")
    await asyncio.wait_for(holding, timeout=1)
    assert pressure.held_s >= 0.3


async def test_holding_stops_when_the_budget_is_spent() -> None:
    pressure = Backpressure(Receiver(secrets={}), in_flight=1, budget_s=0.3)
    started = time.monotonic()
    await pressure.hold(5)  # nothing ever acknowledged
    await pressure.hold(6)  # the budget is already spent: no wait
    assert 0.3 <= time.monotonic() - started < 1.0
    assert f"held {pressure.held_s:.1f} s" in pressure.note()  # what was held, rounded once
    assert pressure.held_s >= 0.3
