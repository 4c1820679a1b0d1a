"""A writer killed between a case write and its tally update (ADR 0029), over the fake and the
real store: the tally drifts from the recount until `heal_tally` settles what the dead writer
announced — once, only what was stored, never a live writer's announcement."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from contracts import Severity
from sla.ports import CaseStore
from tests._builders.sla import cid_n
from tests._builders.sla_census import met, record
from tests.sla.contract import Adapters


class KilledError(Exception):
    """The process died here."""


@contextmanager
def killed_before_the_tally(store: CaseStore) -> Iterator[None]:
    """Every tally update of `store` dies before it reaches the server."""

    async def die(token: str | None, diff: Mapping[str, int]) -> None:
        raise KilledError

    target: Any = store
    target.settle_tally = die
    try:
        yield
    finally:
        del target.settle_tally


async def drifted(store: CaseStore) -> bool:
    """The census differs from a full recount."""
    return await store.census() != await store.recount()


async def test_a_kill_after_an_insert_is_healed_once(adapters: Adapters) -> None:
    dead, alive = adapters.cases(), adapters.cases()
    await alive.insert_new([record(1)])
    with killed_before_the_tally(dead), pytest.raises(KilledError):
        await dead.insert_new([record(n, Severity.P2) for n in range(1, 6)])  # 1 stored before
    assert await drifted(alive)
    # The redelivery finds the cases stored: it adds nothing, and settles nothing of the dead's.
    assert await alive.insert_new([record(n, Severity.P2) for n in range(1, 6)]) == [
        cid_n(n) for n in range(1, 6)
    ]
    assert await drifted(alive)
    assert await alive.heal_tally(older_than=3600) == 0  # younger than a live write may take
    assert await alive.heal_tally(older_than=0) == 1
    assert not await drifted(alive)
    assert ("acknowledge", "P2", "running", "", 8) in await alive.census()  # 4 new cases × 2
    assert await alive.heal_tally(older_than=0) == 0  # settled once
    assert not await drifted(alive)


async def test_a_kill_after_compare_and_sets_is_healed_by_what_was_stored(
    adapters: Adapters,
) -> None:
    dead, alive = adapters.cases(), adapters.cases()
    cids = [cid_n(n) for n in range(1, 41)]
    await alive.insert_new([record(n) for n in range(1, 41)])
    read = await dead.load_many(cids, log=False)
    raced = cids[3]  # another writer wins this one first: the dead writer's change is not stored
    fresh = await alive.load(raced)
    assert fresh is not None
    assert await alive.commit(fresh, met(fresh, "theirs"))
    with killed_before_the_tally(dead), pytest.raises(KilledError):
        await dead.commit_many([(read[c], met(read[c], f"dead-{c}", late=True)) for c in cids])
    # A single compare-and-set killed after it lost: announced, nothing stored.
    stale = read[cids[0]]
    with killed_before_the_tally(dead), pytest.raises(KilledError):
        await dead.commit(stale, met(stale, "lost"))
    assert await drifted(alive)
    assert await alive.heal_tally(older_than=0) >= 2
    census = await alive.census()
    assert census == await alive.recount()
    assert ("acknowledge", "P4", "met", "on_time", 2) in census  # the rival's, not the dead's
    assert await alive.heal_tally(older_than=0) == 0


async def test_a_live_writer_settles_its_own_announcement(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record(n) for n in range(1, 4)])
    stored = await store.load(cid_n(1))
    assert stored is not None
    assert await store.commit(stored, met(stored, "once"))
    assert not await store.commit(stored, met(stored, "stale"))  # lost: settles nothing
    assert await store.heal_tally(older_than=0) == 0  # nothing left announced
    assert not await drifted(store)
