"""A batch subscriber's poll that waits for records, not after them (ADR 0039).

FastStream's batch subscriber polls `getmany(timeout_ms=batch_timeout_ms)` and, when that comes
back empty, sleeps `batch_timeout_ms` before polling again. aiokafka's `getmany` already returns
the moment a fetch brings records, so the nap adds nothing but wake-ups (and up to one nap of
latency for a record that lands during it). `long_poll` gives a subscriber a poll that waits up to
`wait_ms` for the first record and hands records on at once: an idle consumer wakes
`1000 / wait_ms` times a second instead of `1000 / (2 * batch_timeout_ms)`.
"""

from __future__ import annotations

import asyncio
from itertools import chain
from time import monotonic
from typing import Any

NAP_S = 0.02
"""After a poll that came back empty well before its wait (a stopping or rebalancing consumer),
the nap FastStream took: a consumer that cannot wait must not spin."""


def long_poll(subscriber: Any, wait_ms: int) -> bool:
    """Give a FastStream batch subscriber the waiting poll; False where it has no batch poll to
    replace (another FastStream version, a test broker's subscriber), which keeps its own."""
    if not callable(getattr(subscriber, "get_msg", None)) or not hasattr(subscriber, "max_records"):
        return False
    wait_s = wait_ms / 1000

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        started = monotonic()
        fetched = await consumer.getmany(timeout_ms=wait_ms, max_records=subscriber.max_records)
        if fetched:
            return tuple(chain.from_iterable(fetched.values()))
        if monotonic() - started < wait_s / 2:
            await asyncio.sleep(NAP_S)
        return ()

    try:
        subscriber.get_msg = get_msg  # the consume loop calls `self.get_msg(consumer)`
    except AttributeError:  # a slotted subscriber
        return False
    return True
