"""Time as a port: production reads the system clock, demos scale it, tests move it by hand."""

from __future__ import annotations

import bisect
import json
import math
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

    The anchor file may also list holds (`hold <real start> [<real end>]`, one a line): business
    time stands still during each, for every process that reads the file (it is looked at every
    0.1 s), so a demo can wait for a pipeline that falls behind its compressed clock (ADR 0035).
    A process that reads a hold late has run ahead by up to that delay; it stands there until the
    others catch up: business time never runs backwards in one process.
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
        self._version: tuple[int, int] | None = None  # the anchor file last read (inode, mtime)
        self._holds: tuple[Hold, ...] = ()
        self._latest = -math.inf  # the latest real offset returned: time never runs backwards
        self._started = time.monotonic()
        self._pace = Pace(self._origin, scale, plan)

    def _real(self) -> float:
        if self._anchor_file is not None:
            self._look_at_anchor_file(self._anchor_file)
            if self._anchor is None:
                return 0.0  # standing at the origin until the run begins
        if self._anchor is not None:
            now = datetime.now(UTC)
            real = (now - self._anchor).total_seconds() - held(self._holds, now)
            self._latest = max(self._latest, real)
            return self._latest
        return time.monotonic() - self._started

    def _look_at_anchor_file(self, path: Path) -> None:
        if time.monotonic() - self._looked < ANCHOR_LOOK_S:
            return
        self._looked = time.monotonic()
        try:
            stat = path.stat()
            version = (stat.st_ino, stat.st_mtime_ns)
            if version == self._version:
                return
            anchor, holds = parse_anchor_file(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # not written yet (it is written whole, by a rename)
        self._anchor, self._holds, self._version = anchor, holds, version

    def now(self) -> datetime:
        """Scaled UTC time."""
        return self._pace.business(self._real())

    def real_seconds(self, business: timedelta) -> float:
        """How long to really wait for `business` time to pass (at the base scale)."""
        return business.total_seconds() / self._scale

    def real_seconds_until(self, when: datetime) -> float:
        """How long to really wait until business time reaches `when` (negative: past)."""
        return self._pace.real(when) - self._real()


ANCHOR_LOOK_S = 0.1  # how often a clock looks at its anchor file (for it, or for new holds)

Hold = tuple[datetime, datetime | None]
"""Real instants between which business time stands still (no end: still holding)."""


def held(holds: Sequence[Hold], now: datetime) -> float:
    """Real seconds of the holds up to `now`."""
    return sum(
        max(0.0, (min(end or now, now) - start).total_seconds())
        for start, end in holds
        if start < now
    )


def parse_anchor_file(text: str) -> tuple[datetime, tuple[Hold, ...]]:
    """The anchor (first line) and the holds (`hold <start> [<end>]`) of an anchor file."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    if not lines or len(lines[0]) != 1:
        raise ValueError("an anchor file begins with the anchor instant")
    holds: list[Hold] = []
    for words in lines[1:]:
        if words[0] != "hold" or len(words) not in {2, 3}:
            raise ValueError(f"not a hold: {' '.join(words)}")
        start = _aware(words[1])
        end = _aware(words[2]) if len(words) == 3 else None
        if end is not None and end < start:
            raise ValueError(f"a hold ends before it starts: {' '.join(words)}")
        holds.append((start, end))
    return _aware(lines[0][0]), tuple(holds)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"not an aware instant: {text}")
    return moment


def write_anchor_file(path: Path, anchor: datetime, holds: Sequence[Hold] = ()) -> None:
    """Write an anchor file whole, at once (a rename): a reader never sees half of it."""
    lines = [anchor.isoformat()]
    lines += [" ".join(["hold", s.isoformat(), *([e.isoformat()] if e else [])]) for s, e in holds]
    written = path.with_suffix(".new")
    written.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.replace(path)


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
