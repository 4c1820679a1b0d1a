"""Where `bench/sla_scheduler.py`'s firing lag accrues: the replicas' round phases, the event
loop's own delays and the garbage collector's pauses, all in this one process.

`Phases` wraps the calls a scheduler round makes to its store, index and publisher (timing each
call's wall time, keyed by the calling replica); `LoopLag` measures how late a 10 ms sleep of
this process's event loop wakes (what every coroutine here waits behind: both replicas, the
feed, the kill); `Pauses` times collections with `gc.callbacks`. `Tally` splits each firing's
lag into the wait before the round that fired it began (`fired_at` − due: the nap's overshoot,
a round busy elsewhere) and the round's work up to the publish (publish − `fired_at`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pipeline_figures import percentile

TICK = 0.01


def ms(values: Sequence[float]) -> str:
    """Count, p50, p99 and max of seconds, as milliseconds."""
    if not values:
        return "none"
    p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
    return f"n {len(values):,} p50 {p50:,.1f} p99 {p99:,.1f} max {max(values) * 1000:,.1f} ms"


class Phases:
    """Wall time of each call a replica's round makes, by `<replica>.<call>`."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.counting = False

    def wrap(self, owner: str, target: Any, name: str) -> None:
        """Replace `target.name` (a coroutine method or callable attribute) by a timed one."""
        inner: Callable[..., Awaitable[Any]] = getattr(target, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                if self.counting:
                    self.calls[f"{owner}.{name}"].append(time.perf_counter() - start)

        setattr(target, name, timed)

    def lines(self) -> list[str]:
        """One line per call kind."""
        return [f"    {key:<20} {ms(v)}" for key, v in sorted(self.calls.items())]


class LoopLag:
    """How late this process's event loop wakes a `TICK` sleep (over the measured period)."""

    def __init__(self) -> None:
        self.late: list[float] = []

    async def run(self) -> None:
        """Sleep `TICK` at a time until cancelled, noting the overshoot."""
        while True:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            self.late.append(time.perf_counter() - start - TICK)


class Pauses:
    """Garbage-collector pauses of this process, per generation, while installed."""

    def __init__(self) -> None:
        self.by_generation: dict[int, list[float]] = defaultdict(list)
        self._start = 0.0

    def start(self) -> Pauses:
        """Time collections from now on."""
        gc.callbacks.append(self._callback)
        return self

    def stop(self) -> None:
        """Stop timing."""
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.by_generation[info["generation"]].append(time.perf_counter() - self._start)

    def lines(self) -> list[str]:
        """One line per generation: count, p99, max and the total paused."""
        return [
            f"    gc gen {g}: {ms(v)}, total {sum(v) * 1000:,.0f} ms"
            for g, v in sorted(self.by_generation.items())
        ]
