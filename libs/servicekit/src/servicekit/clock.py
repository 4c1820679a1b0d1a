"""Time as a port: production reads the system clock, demos scale it, tests move it by hand."""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    """Source of the current time (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)


class ScaledClock:
    """Business time running `scale` times faster than real time from `origin` (demos).

    With an `anchor` (a real UTC instant), business time is `origin` at `anchor` for every
    process that shares both, so separately started services (and a restarted replica) agree.
    Without one, the clock starts at `origin` when it is created. With an `anchor_file` instead,
    business time stands at `origin` until the file appears and then runs from the real instant it
    holds: the demo writes it once every service is up, so slow starts cost no business time. A
    `plan` changes the pace from given business instants on (the demo hurries through nights and
    weekends, ADR 0013); processes given the same plan keep the same time without messages.
    """

    def __init__(
        self,
        *,
        scale: float,
        origin: datetime | None = None,
        anchor: datetime | None = None,
        plan: Sequence[tuple[datetime, float]] = (),
        anchor_file: Path | None = None,
    ) -> None:
        self._scale = scale
        self._origin = origin or datetime.now(UTC)
        self._anchor = anchor
        self._anchor_file = anchor_file
        self._looked = -ANCHOR_LOOK_S
        self._started = time.monotonic()
        self._pace = Pace(self._origin, scale, plan)

    def _real(self) -> float:
        if self._anchor is None and self._anchor_file is not None:
            self._look_for_anchor(self._anchor_file)
            if self._anchor is None:
                return 0.0  # standing at the origin until the run begins
        if self._anchor is not None:
            return (datetime.now(UTC) - self._anchor).total_seconds()
        return time.monotonic() - self._started

    def _look_for_anchor(self, path: Path) -> None:
        if time.monotonic() - self._looked < ANCHOR_LOOK_S:
            return
        self._looked = time.monotonic()
        try:
            self._anchor = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return  # not written yet (it is written whole, by a rename)

    def now(self) -> datetime:
        """Scaled UTC time."""
        return self._pace.business(self._real())

    def real_seconds(self, business: timedelta) -> float:
        """How long to really wait for `business` time to pass (at the base scale)."""
        return business.total_seconds() / self._scale

    def real_seconds_until(self, when: datetime) -> float:
        """How long to really wait until business time reaches `when` (negative: past)."""
        return self._pace.real(when) - self._real()


ANCHOR_LOOK_S = 0.1  # how often a clock waiting for its anchor file looks for it


class Pace:
    """Business time as a function of real seconds since the origin: piecewise linear."""

    def __init__(
        self, origin: datetime, scale: float, plan: Sequence[tuple[datetime, float]]
    ) -> None:
        steps = sorted((at, rate) for at, rate in plan if rate > 0)
        # The pace at the origin: the last change at or before it, else `scale`.
        first = [rate for at, rate in steps if at <= origin][-1:] or [scale]
        later = [(at, rate) for at, rate in steps if at > origin]
        self._starts = [origin, *(at for at, _ in later)]
        self._rates = [first[0], *(rate for _, rate in later)]
        self._reals = [0.0]  # real seconds at which each piece begins
        for i in range(1, len(self._starts)):
            span = (self._starts[i] - self._starts[i - 1]).total_seconds()
            self._reals.append(self._reals[-1] + span / self._rates[i - 1])

    def business(self, real: float) -> datetime:
        """Business time `real` seconds after the origin (before it: at the first pace)."""
        i = max(0, bisect.bisect_right(self._reals, real) - 1)
        return self._starts[i] + timedelta(seconds=(real - self._reals[i]) * self._rates[i])

    def real(self, when: datetime) -> float:
        """Real seconds after the origin at which business time is `when`."""
        i = max(0, bisect.bisect_right(self._starts, when) - 1)
        return self._reals[i] + (when - self._starts[i]).total_seconds() / self._rates[i]


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """The time the test set."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward and return the new time."""
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when`."""
        self._now = when


def parse_plan(raw: str | None) -> list[tuple[datetime, float]]:
    """A pace plan from JSON: `[["<ISO business instant>", <scale from then on>], …]`."""
    if not raw:
        return []
    return [(datetime.fromisoformat(at), float(rate)) for at, rate in json.loads(raw)]


def clock_from_settings(
    *,
    scale: float,
    origin: str | None,
    anchor: str | None = None,
    plan: str | None = None,
    anchor_file: str | None = None,
) -> Clock:
    """The clock a service runs on: real time unless a demo asks for a scaled one."""
    if scale == 1.0 and origin is None:
        return SystemClock()
    start = datetime.fromisoformat(origin) if origin else None
    real = datetime.fromisoformat(anchor) if anchor else None
    return ScaledClock(
        scale=scale,
        origin=start,
        anchor=real,
        plan=parse_plan(plan),
        anchor_file=Path(anchor_file) if anchor_file else None,
    )
