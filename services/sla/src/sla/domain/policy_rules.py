"""The parts of an SLA policy: durations, clock specs, overlays, escalation rules, upgrades."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain.errors import PolicyError

Unit = Literal["h", "d", "wh", "wd", "sd"]
"""`sd`: the same (natural) day: due at the end of the local calendar day the clock started on."""
Start = Literal["receipt", "dispatch", "resolution", "reopening", "handover"]
STARTS: tuple[Start, ...] = ("receipt", "dispatch", "resolution", "reopening", "handover")
"""The lifecycle moments a clock can start at (DOMAIN.md §5: first contact starts at dispatch, the
callback at resolution)."""

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h|d|wh|wd)\s*$")
SAME_DAY = "same_day"
SAME_WORKING_DAY = "same_working_day"
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
        """The natural-time length of an h / d duration (a same-day clock has none of its own)."""
        if self.unit == "h":
            return timedelta(hours=self.amount)
        if self.unit == "d":
            return timedelta(days=self.amount)
        raise PolicyError(f"{self.amount}{self.unit} is working time, not natural time")


@dataclass(frozen=True)
class ClockSpec:
    """One clock as a pack defines it for one severity (and category / complexity)."""

    clock: ClockName
    amount: float
    unit: Unit
    repeat: bool = False
    target: Duration | None = None
    """An earlier promise than the breach (001 Art. 53: callback the same day, at most 3 days)."""
    non_working_day: Duration | None = None
    """The amount when the clock starts on a non-working day (Vanke T09: holidays, same day)."""
    pausable: bool = True
    """False for an outer limit that waiting for the customer does not stop (MIIT's 15 days)."""

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
    """Parse `15min`, `4wh`, `5wd`, `15d`, `same_day`, `same_working_day`; minutes become hours."""
    word = str(raw).strip()
    if word == SAME_DAY:
        return Duration(0, "sd")
    if word == SAME_WORKING_DAY:
        return Duration(0, "wd")  # zero working days: the end of this (or the next) working day
    match = _AMOUNT.match(word)
    if match is None:
        raise PolicyError(
            f"bad duration {raw!r}: use <number><min|h|d|wh|wd>, {SAME_DAY} or {SAME_WORKING_DAY}"
        )
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
    """One clock of a pack: when it starts and its amount per severity, category and complexity."""

    clock: ClockName
    starts: Start
    repeat: bool
    per_severity: Mapping[Severity, Duration]
    by_category: Mapping[str, Mapping[Severity, Duration]] = field(default_factory=dict)
    complex: Mapping[Severity, Duration] = field(default_factory=dict)
    target: Duration | None = None
    non_working_day: Duration | None = None
    pausable: bool = True

    def spec(
        self, severity: Severity, *, category: str | None = None, complex_case: bool = False
    ) -> ClockSpec | None:
        """The clock at `severity`: a complex case's amount first, then the category's (its top
        level or the full path), then the severity's; None where the clock does not run."""
        duration = self.per_severity.get(severity)
        if category:
            for key in (category, category.split("/", 1)[0]):
                if key in self.by_category and severity in self.by_category[key]:
                    duration = self.by_category[key][severity]
                    break
        if complex_case and severity in self.complex:
            duration = self.complex[severity]
        if duration is None:
            return None
        return ClockSpec(
            self.clock,
            duration.amount,
            duration.unit,
            self.repeat,
            target=self.target,
            non_working_day=self.non_working_day,
            pausable=self.pausable,
        )


def _per_severity(raw: Mapping[str, Any], *, where: str) -> dict[Severity, Duration]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be a mapping of severities to amounts")
    return {sev: parse_duration(raw[sev.value]) for sev in Severity if sev.value in raw}


def _optional_duration(raw: Any) -> Duration | None:
    return None if raw is None else parse_duration(raw)


def parse_clock_rule(*, name: str, raw: Any) -> ClockRule:
    """One entry of a pack's `clocks:` mapping."""
    try:
        clock = ClockName(name)
    except ValueError as exc:
        raise PolicyError(f"unknown clock {name!r}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"clock {name}: must be a mapping")
    starts = str(raw.get("starts", "receipt"))
    if starts not in STARTS:
        raise PolicyError(f"clock {name}: `starts` must be one of {', '.join(STARTS)}")
    categories = raw.get("categories") or {}
    if not isinstance(categories, dict):
        raise PolicyError(f"clock {name}: `categories` must map categories to severities")
    by_category = {
        str(cat): _per_severity(amounts, where=f"clock {name}: categories.{cat}")
        for cat, amounts in categories.items()
    }
    pausable = raw.get("pausable", True)
    if not isinstance(pausable, bool):
        raise PolicyError(f"clock {name}: `pausable` is true or false")
    return ClockRule(
        clock=clock,
        starts=next(s for s in STARTS if s == starts),
        repeat=bool(raw.get("repeat", False)),
        per_severity=_per_severity(raw, where=f"clock {name}"),
        by_category=by_category,
        complex=_per_severity(raw.get("complex") or {}, where=f"clock {name}: complex"),
        target=_optional_duration(raw.get("target")),
        non_working_day=_optional_duration(raw.get("non_working_day")),
        pausable=pausable,
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
