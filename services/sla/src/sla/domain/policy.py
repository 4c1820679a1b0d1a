"""The SLA policy of a pack: clocks per severity, overlays, warnings, escalation, pauses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain.calendar import BusinessCalendar
from sla.domain.errors import PolicyError
from sla.domain.packfile import calendar_dir, naming, read_yaml_mapping, sla_file
from sla.domain.policy_rules import (
    BREACH,
    ClockRule,
    ClockSpec,
    Duration,
    EscalationRule,
    Overlay,
    Start,
    Unit,
    Upgrade,
    parse_clock_rule,
    parse_duration,
    parse_escalation,
    parse_overlay,
    parse_upgrade,
)

__all__ = ["BREACH", "ClockSpec", "Duration", "SlaPolicy", "Start", "Unit"]

_MAX_ANSWERS = 4096  # cached answers per policy (see `SlaPolicy._remember`)


def _percent(value: Any) -> int:
    """A whole percentage above 0, or -1 (which every check refuses)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return -1
    try:
        number = int(value)
    except ValueError:
        return -1
    return number if number > 0 else -1


def _extension_caps(raw: Any, *, where: str) -> tuple[timedelta, timedelta]:
    """`extensions: {max_each, max_total}` in natural time (defaults 14d and 30d): working time
    would let a cap of "90 days" move a due by most of a year (issue 21)."""
    section = {} if raw is None else raw
    if not isinstance(section, dict) or set(section) - {"max_each", "max_total"}:
        raise PolicyError(f"{where}: `extensions` is a mapping of `max_each` and `max_total`")
    try:
        each = parse_duration(section.get("max_each", "14d")).natural()
        total = parse_duration(section.get("max_total", "30d")).natural()
    except PolicyError as exc:
        raise PolicyError(f"{where}: `extensions`: {exc} (use h or d)") from None
    if each > total:
        raise PolicyError(f"{where}: `extensions.max_each` is longer than `max_total`")
    return each, total


@dataclass(frozen=True)
class SlaPolicy:
    """Everything the SLA service needs from one pack's sla.yaml."""

    name: str
    version: str
    calendar_section: Mapping[str, Any]
    rules: Mapping[ClockName, ClockRule]
    overlays: tuple[Overlay, ...]
    warn_thresholds: tuple[int, ...]
    escalation: tuple[EscalationRule, ...]
    pause_cap: Duration
    upgrades: tuple[Upgrade, ...]
    failed_callback_attempts: int = 3
    extension_cap: timedelta = timedelta(days=14)
    """How far one approved extension may move a due (natural time; `extensions.max_each`)."""
    extension_total_cap: timedelta = timedelta(days=30)
    """How far all extensions of one case together may move its dues (`extensions.max_total`)."""
    source: Path | None = field(default=None, compare=False)
    # The pack's own calendar, for callers (lifecycle pause caps) that were not handed one.
    calendar: BusinessCalendar | None = field(default=None, compare=False, repr=False)
    # Answers computed once per policy (it never changes after it is built; a changed pack is
    # a new policy, and `replace` gives the copy an empty cache): every case start asks them.
    _answers: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def load(cls, *, policy_dir: Path, pack: str = "telecom") -> SlaPolicy:
        """Read policies/<pack>/sla.yaml (and the pack name from pack.yaml when present)."""
        path = sla_file(policy_dir=policy_dir, pack=pack)
        name = pack
        pack_file = policy_dir / pack / "pack.yaml"
        if pack_file.is_file():
            name = str(read_yaml_mapping(pack_file).get("name", pack))
        data = read_yaml_mapping(path)
        with naming(path):
            policy = cls.from_mapping(data, name=name, source=path)
        business = BusinessCalendar.from_section(
            dict(policy.calendar_section), calendar_dir=calendar_dir(policy_dir), source=path
        )
        return replace(policy, calendar=business)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, name: str, source: Path | None = None
    ) -> SlaPolicy:
        """Build and validate a policy from the parsed YAML mapping."""
        if "version" not in data:
            raise PolicyError(f"{source or name}: `version` is required")
        clocks = data.get("clocks")
        if not isinstance(clocks, dict) or not clocks:
            raise PolicyError(f"{source or name}: `clocks` must be a non-empty mapping")
        warnings = data.get("warnings", [50, 80])
        if not isinstance(warnings, list) or not all(0 < _percent(w) < BREACH for w in warnings):
            raise PolicyError(f"{source or name}: `warnings` must be percentages below 100")
        pause = data.get("pause") or {}
        closure = data.get("closure") or {}
        for key, section in (("calendar", data.get("calendar") or {}), ("pause", pause)):
            if not isinstance(section, dict):
                raise PolicyError(f"{source or name}: `{key}` must be a mapping")
        attempts = closure.get("failed_callback_attempts", 3) if isinstance(closure, dict) else -1
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise PolicyError(
                f"{source or name}: `closure.failed_callback_attempts` must be a whole number"
            )
        each, total = _extension_caps(data.get("extensions"), where=str(source or name))
        for key in ("overlays", "escalation", "upgrades"):
            if not isinstance(data.get(key) or [], list):
                raise PolicyError(f"{source or name}: `{key}` must be a list")
        rules = [parse_clock_rule(name=str(k), raw=v) for k, v in clocks.items()]
        return cls(
            name=name,
            version=str(data["version"]),
            calendar_section=dict(data.get("calendar") or {}),
            rules={rule.clock: rule for rule in rules},
            overlays=tuple(parse_overlay(o) for o in data.get("overlays") or []),
            warn_thresholds=tuple(sorted(int(w) for w in warnings)),
            escalation=tuple(parse_escalation(e) for e in data.get("escalation") or []),
            pause_cap=parse_duration(pause.get("cap", "5wd")),
            upgrades=tuple(
                sorted(
                    (parse_upgrade(u) for u in data.get("upgrades") or []), key=lambda u: u.after
                )
            ),
            failed_callback_attempts=attempts,
            extension_cap=each,
            extension_total_cap=total,
            source=source,
        )

    def spec(
        self,
        *,
        clock: ClockName,
        severity: Severity,
        category: str | None = None,
        complex_case: bool = False,
    ) -> ClockSpec | None:
        """The pack's spec for `clock` at `severity`, if the clock runs at that level."""
        rule = self.rules.get(clock)
        return rule.spec(severity, category=category, complex_case=complex_case) if rule else None

    def pausable(self, clock: ClockName) -> bool:
        """Whether waiting for the customer stops `clock` (an outer limit runs on)."""
        rule = self.rules.get(clock)
        return rule.pausable if rule else True

    def clocks_starting(
        self,
        at: Start,
        *,
        severity: Severity,
        category: str | None = None,
        complex_case: bool = False,
    ) -> list[ClockSpec]:
        """The pack's own clocks (no overlays) that start at lifecycle moment `at`."""
        return [
            spec
            for rule in self.rules.values()
            if rule.starts == at
            and (spec := rule.spec(severity, category=category, complex_case=complex_case))
            is not None
        ]

    def clocks_for(
        self,
        *,
        severity: Severity,
        channel: Channel,
        flags: Iterable[FlagName] = (),
        category: str | None = None,
        complex_case: bool = False,
    ) -> list[ClockSpec]:
        """Clocks started at receipt, overlays included (others start at dispatch, resolution or
        reopening)."""
        flag_set = frozenset(flags)
        key = ("clocks_for", severity, channel, flag_set, category, complex_case)
        known: list[ClockSpec] = self._remember(
            key, lambda: self._clocks_for(severity, channel, flag_set, category, complex_case)
        )
        return list(known)

    def _clocks_for(
        self,
        severity: Severity,
        channel: Channel,
        flag_set: frozenset[FlagName],
        category: str | None,
        complex_case: bool,
    ) -> list[ClockSpec]:
        specs = self.clocks_starting(
            "receipt", severity=severity, category=category, complex_case=complex_case
        )
        for overlay in self.overlays:
            if overlay.applies(channel=channel, flags=flag_set):
                specs = [s for s in specs if s.clock not in {a.clock for a in overlay.add}]
                specs.extend(overlay.add)
        return specs

    def clocks_on_resolution(
        self, *, severity: Severity, category: str | None = None, complex_case: bool = False
    ) -> list[ClockSpec]:
        """Clocks started when the case is resolved (the callback)."""
        return self.clocks_starting(
            "resolution", severity=severity, category=category, complex_case=complex_case
        )

    def caps_for(
        self, *, channel: Channel, flags: Iterable[FlagName]
    ) -> dict[ClockName, ClockName]:
        """Clock → the overlay clock whose due time caps it (the earlier of the two wins)."""
        caps: dict[ClockName, ClockName] = {}
        flag_set = set(flags)
        for overlay in self.overlays:
            if overlay.applies(channel=channel, flags=flag_set):
                caps.update(overlay.caps)
        return caps

    @property
    def thresholds(self) -> tuple[int, ...]:
        """Every percentage at which something happens: warnings, breach, escalations."""
        known: tuple[int, ...] = self._remember(
            ("thresholds",),
            lambda: tuple(
                sorted({*self.warn_thresholds, BREACH, *(r.at for r in self.escalation)})
            ),
        )
        return known

    def audiences(
        self, *, clock: ClockName, severity: Severity, flags: Iterable[FlagName]
    ) -> dict[int, tuple[Audience, ...]]:
        """Who is told at each threshold of `clock` for this complaint (a fresh dict: callers
        add their target's threshold to it)."""
        flag_set = frozenset(flags)
        key = ("audiences", clock, severity, flag_set)
        known: dict[int, tuple[Audience, ...]] = self._remember(
            key, lambda: self._audiences(clock, severity, flag_set)
        )
        return dict(known)

    def _remember(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """`make()`, computed once per key; bounded, as categories come from the messages."""
        if (known := self._answers.get(key)) is None:
            if len(self._answers) >= _MAX_ANSWERS:
                self._answers.clear()
            known = self._answers[key] = make()
        return known

    def _audiences(
        self, clock: ClockName, severity: Severity, flag_set: frozenset[FlagName]
    ) -> dict[int, tuple[Audience, ...]]:
        out: dict[int, tuple[Audience, ...]] = {}
        for at in self.thresholds:
            chosen = {
                audience
                for rule in self.escalation
                if rule.at == at and rule.matches(clock=clock, severity=severity, flags=flag_set)
                for audience in rule.notify
            }
            out[at] = tuple(a for a in Audience if a in chosen)
        return out
