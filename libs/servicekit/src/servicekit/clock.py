"""Time as a port: production reads the system clock, demos scale it, tests move it by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
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
    Without one, the clock starts at `origin` when it is created.
    """

    def __init__(
        self, *, scale: float, origin: datetime | None = None, anchor: datetime | None = None
    ) -> None:
        self._scale = scale
        self._origin = origin or datetime.now(UTC)
        self._anchor = anchor
        self._started = time.monotonic()

    def now(self) -> datetime:
        """Scaled UTC time."""
        if self._anchor is not None:
            real = (datetime.now(UTC) - self._anchor).total_seconds()
        else:
            real = time.monotonic() - self._started
        return self._origin + timedelta(seconds=real * self._scale)

    def real_seconds(self, business: timedelta) -> float:
        """How long to really wait for `business` time to pass."""
        return business.total_seconds() / self._scale


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


def clock_from_settings(*, scale: float, origin: str | None, anchor: str | None = None) -> Clock:
    """The clock a service runs on: real time unless a demo asks for a scaled one."""
    if scale == 1.0 and origin is None:
        return SystemClock()
    start = datetime.fromisoformat(origin) if origin else None
    real = datetime.fromisoformat(anchor) if anchor else None
    return ScaledClock(scale=scale, origin=start, anchor=real)
