"""The collector's settings for a long-running service process (ADR 0039).

A started service holds a large, never-freed heap (policy packs, the classifier's model tables,
imported modules), and every full collection walked all of it again: 11-16 % of the classifier's
and the SLA's CPU in a bench run was the cyclic collector (perf). Once started, that heap is
frozen (`gc.freeze`: left out of every later collection; still freed by reference counting) and
the young generation is collected every `YOUNG` allocations instead of 700, so a batch's
short-lived objects are not walked again and again while the batch is still using them.
"""

from __future__ import annotations

import gc

YOUNG = 10_000
"""Allocations (less deallocations) between young collections; the older generations keep
their default ratios (10, 10)."""


async def settle_heap() -> None:
    """Collect what starting left behind, freeze the rest, then collect young objects less
    often: an `after_startup` hook of the service process."""
    gc.collect()
    gc.freeze()
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNG, young), older, oldest)  # a service that set its own keeps it
