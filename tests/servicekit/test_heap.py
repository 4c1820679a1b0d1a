"""servicekit.heap.settle_heap: a started service's heap is frozen, young objects collected less
often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from servicekit.heap import YOUNG, settle_heap


@pytest.fixture
def collector() -> Iterator[None]:
    """The test process's own collector settings, restored afterwards."""
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
async def test_the_started_heap_is_frozen_and_young_collections_are_rarer() -> None:
    held = [[n] for n in range(1000)]  # long-lived, as a service's tables are
    gc.set_threshold(700, 10, 10)
    before = gc.get_freeze_count()
    await settle_heap()
    assert gc.get_freeze_count() >= before + len(held)
    assert gc.get_threshold() == (YOUNG, 10, 10)
    assert YOUNG > 700


@pytest.mark.usefixtures("collector")
async def test_garbage_left_by_starting_is_collected_not_frozen() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle  # unreachable, but only the cyclic collector can free it
    frozen_before = gc.get_freeze_count()
    unreachable_before = sum(s["collected"] for s in gc.get_stats())
    await settle_heap()
    assert sum(s["collected"] for s in gc.get_stats()) > unreachable_before
    assert gc.get_freeze_count() > frozen_before


@pytest.mark.usefixtures("collector")
async def test_a_service_that_set_rarer_collections_itself_keeps_them() -> None:
    gc.set_threshold(20_000, 20, 20)  # the notifier's own, set in its __main__
    await settle_heap()
    assert gc.get_threshold() == (20_000, 20, 20)
