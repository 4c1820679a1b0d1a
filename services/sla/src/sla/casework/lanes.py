"""Per-case lanes: one case's items in order, different cases side by side (bounded)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def lanes(items: Sequence[T], key: Callable[[T], Hashable]) -> list[list[T]]:
    """The items grouped by key, each group in arrival order, groups by first arrival."""
    grouped: dict[Hashable, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return list(grouped.values())


async def in_lanes(
    items: Sequence[T],
    *,
    key: Callable[[T], Hashable],
    work: Callable[[T], Awaitable[list[R]]],
    limit: int,
) -> list[R]:
    """Run `work` over `items`: a lane (one key) in order, at most `limit` lanes at once.

    The results come lane by lane, in each lane's order. Every lane runs to its end or to its
    first failure before anything is raised: a failing case does not cut another case's write
    short halfway, and the first failure (in lane order) is raised as it was, so the delivery
    policy still tells a transient error from a poison message.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def run(lane: list[T]) -> list[R]:
        async with gate:
            out: list[R] = []
            for item in lane:
                out += await work(item)
            return out

    done = await asyncio.gather(*(run(lane) for lane in lanes(items, key)), return_exceptions=True)
    results: list[R] = []
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
        results += outcome
    return results
