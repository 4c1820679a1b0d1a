"""The parts of an SLA policy: durations, clock specs, overlays, escalation rules, upgrades."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain.errors import PolicyError

Unit = Literal["h", "d", "wh", "wd"]
Start = Literal["receipt", "resolution"]

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h|d|wh|wd)\s*$")
BREACH = 100
MAX_DAYS = 366
"""No clock, pause cap or upgrade of a pack lasts longer than a year (in its own unit)."""
_DAYS_PER = {"min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wh": 1 / 24, "wd": 1.0}


@dataclass(frozen=True)
class Duration:
    """An amount of time in one unit: natural h / d or working wh / wd."""

    amount: float
    unit: Unit

    @property
    def working(self) -> bool:
        """Whether only working time counts."""
        return self.unit in ("wh", "wd")

    def natural(self) -> timedelta:
        """The natural-time length of an h / d duration."""
        if self.unit == "h":
            return timedelta(hours=self.amount)
        if self.unit == "d":
            return timedelta(days=self.amount)
        raise PolicyError(f"{self.amount}{self.unit} is working time, not natural time")


@dataclass(frozen=True)
class ClockSpec:
    """One clock as a pack defines it for one severity."""

    clock: ClockName
    amount: float
    unit: Unit
    repeat: bool = False

    @property
    def duration(self) -> Duration:
        """The clock's length as a Duration."""
        return Duration(self.amount, self.unit)


@dataclass(frozen=True)
class Overlay:
    """Extra clocks for some channels or flags, and which clocks they cap."""

    name: str
    channels: frozenset[Channel]
    flags: frozenset[FlagName]
    add: tuple[ClockSpec, ...]
    caps: Mapping[ClockName, ClockName]

    def applies(self, *, channel: Channel, flags: Iterable[FlagName]) -> bool:
        """Whether a complaint with this channel and flags gets the overlay."""
        return channel in self.channels or bool(self.flags & set(flags))


@dataclass(frozen=True)
class EscalationRule:
    """At `at` % of a clock's duration, tell `notify` (if the conditions hold)."""

    at: int
    notify: tuple[Audience, ...]
    severities: frozenset[Severity] = frozenset()
    flags: frozenset[FlagName] = frozenset()
    clocks: frozenset[ClockName] = frozenset()

    def matches(self, *, clock: ClockName, severity: Severity, flags: frozenset[FlagName]) -> bool:
        """Whether the rule applies to this clock of this complaint."""
        return (
            (not self.severities or severity in self.severities)
            and (not self.flags or bool(self.flags & flags))
            and (not self.clocks or clock in self.clocks)
        )


@dataclass(frozen=True)
class Upgrade:
    """An unresolved complaint moves up to `to` after `after` (natural time)."""

    after: timedelta
    to: Severity


def parse_duration(raw: Any) -> Duration:
    """Parse `15min`, `4wh`, `5wd`, `15d`; minutes become natural hours."""
    match = _AMOUNT.match(str(raw))
    if match is None:
        raise PolicyError(f"bad duration {raw!r}: use <number><min|h|d|wh|wd>")
    amount, unit = float(match.group(1)), match.group(2)
    if amount <= 0:
        raise PolicyError(f"bad duration {raw!r}: must be positive")
    if amount * _DAYS_PER[unit] > MAX_DAYS:
        raise PolicyError(f"bad duration {raw!r}: longer than {MAX_DAYS} days")
    if unit == "min":
        return Duration(amount / 60, "h")
    if unit == "wd" and not amount.is_integer():
        raise PolicyError(f"bad duration {raw!r}: working days must be whole")
    unit_checked: Unit = (
        "h" if unit == "h" else "d" if unit == "d" else "wh" if unit == "wh" else "wd"
    )
    return Duration(amount, unit_checked)


def _enum_set(raw: Any, *, enum: Any, where: str) -> frozenset[Any]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise PolicyError(f"{where} must be a list")
    try:
        return frozenset(enum(str(item)) for item in raw)
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class ClockRule:
    clock: ClockName
    starts: Start
    repeat: bool
    per_severity: Mapping[Severity, Duration]

    def spec(self, severity: Severity) -> ClockSpec | None:
        duration = self.per_severity.get(severity)
        if duration is None:
            return None
        return ClockSpec(self.clock, duration.amount, duration.unit, self.repeat)


def parse_clock_rule(*, name: str, raw: Any) -> ClockRule:
    try:
        clock = ClockName(name)
    except ValueError as exc:
        raise PolicyError(f"unknown clock {name!r}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"clock {name}: must be a mapping")
    starts = str(raw.get("starts", "receipt"))
    if starts not in ("receipt", "resolution"):
        raise PolicyError(f"clock {name}: `starts` must be receipt or resolution")
    per_severity = {sev: parse_duration(raw[sev.value]) for sev in Severity if sev.value in raw}
    return ClockRule(
        clock=clock,
        starts="receipt" if starts == "receipt" else "resolution",
        repeat=bool(raw.get("repeat", False)),
        per_severity=per_severity,
    )


def parse_overlay(raw: Any) -> Overlay:
    if not isinstance(raw, dict):
        raise PolicyError("each overlay must be a mapping")
    when = raw.get("when") or {}
    add = raw.get("add") or {}
    caps = raw.get("caps") or {}
    if not all(isinstance(part, dict) for part in (when, add, caps)):
        raise PolicyError(f"overlay {raw.get('name')!r}: `when`, `add` and `caps` are mappings")
    try:
        specs = tuple(
            ClockSpec(ClockName(c), d.amount, d.unit)
            for c, d in ((c, parse_duration(v)) for c, v in add.items())
        )
        cap_map = {ClockName(k): ClockName(v) for k, v in caps.items()}
    except ValueError as exc:
        raise PolicyError(f"overlay {raw.get('name')!r}: {exc}") from exc
    return Overlay(
        name=str(raw.get("name", "overlay")),
        channels=_enum_set(when.get("channels"), enum=Channel, where="overlay.when.channels"),
        flags=_enum_set(when.get("flags"), enum=FlagName, where="overlay.when.flags"),
        add=specs,
        caps=cap_map,
    )


def parse_escalation(raw: Any) -> EscalationRule:
    if not isinstance(raw, dict) or "at" not in raw:
        raise PolicyError("each escalation rule needs `at` and `notify`")
    notify = _enum_set(raw.get("notify"), enum=Audience, where="escalation.notify")
    order = [a for a in Audience if a in notify]
    at = raw["at"]
    if isinstance(at, bool) or not isinstance(at, int) or at <= 0:
        raise PolicyError(f"escalation `at` must be a whole percentage, not {str(at)[:40]!r}")
    return EscalationRule(
        at=at,
        notify=tuple(order),
        severities=_enum_set(raw.get("severities"), enum=Severity, where="escalation.severities"),
        flags=_enum_set(raw.get("flags"), enum=FlagName, where="escalation.flags"),
        clocks=_enum_set(raw.get("clocks"), enum=ClockName, where="escalation.clocks"),
    )


def parse_upgrade(raw: Any) -> Upgrade:
    if not isinstance(raw, dict):
        raise PolicyError("each upgrade must be a mapping")
    try:
        return Upgrade(after=parse_duration(raw["after"]).natural(), to=Severity(str(raw["to"])))
    except (KeyError, ValueError, PolicyError) as exc:
        raise PolicyError(f"bad upgrade {raw!r}: {exc}") from exc
