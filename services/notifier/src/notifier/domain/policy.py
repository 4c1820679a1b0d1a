"""The notifier section of a policy pack: routing, quiet hours, digests, rate limits, labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts import (
    Audience,
    FlagName,
    Kind,
    LifecycleAction,
    Satisfaction,
    Severity,
    SlaEventKind,
    Verdict,
)
from notifier.domain.incident_policy import IncidentPolicy
from notifier.domain.templates import Templates

STAFF = "staff"
REVIEW_NEEDED = "review_needed"
"""The lifecycle trigger suffix for a transition that flags its complainant for review (003)."""
"""Key of the template every audience but the customer gets in an `sla:` entry."""

CHANNELS = frozenset({"sms", "email", "webhook", "wecom", "dingtalk"})

E = TypeVar("E", bound=StrEnum)


class PolicyError(ValueError):
    """The notifier section of a pack is invalid; the service refuses to start."""


@dataclass(frozen=True)
class Rule:
    """Tell `notify` with `template` when one of `triggers` fires and every condition holds."""

    id: str
    triggers: frozenset[str]
    notify: tuple[Audience, ...]
    template: str
    kinds: frozenset[Kind] = frozenset()
    severities: frozenset[Severity] = frozenset()
    flags: frozenset[FlagName] = frozenset()
    verdicts: frozenset[Verdict] = frozenset()

    def matches(
        self,
        trigger: str,
        *,
        kind: Kind | None = None,
        severity: Severity | None = None,
        flags: Iterable[FlagName] = (),
        verdict: Verdict | None = None,
    ) -> bool:
        """Whether this rule fires for `trigger` on a case with these properties."""
        return (
            trigger in self.triggers
            and (not self.kinds or kind in self.kinds)
            and (not self.severities or severity in self.severities)
            and (not self.flags or bool(self.flags & set(flags)))
            and (not self.verdicts or verdict in self.verdicts)
        )


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which customer SMS wait, unless exempt."""

    start: time
    end: time
    timezone: ZoneInfo
    exempt_severities: frozenset[Severity] = frozenset({Severity.P1})
    exempt_templates: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DigestPolicy:
    """More than `max_items` digestible messages to one recipient in `window` become one digest."""

    events: frozenset[SlaEventKind]
    max_items: int
    window: timedelta
    template: str


@dataclass(frozen=True)
class RateLimit:
    """Token bucket per (recipient, channel): `per_minute` sustained, `burst` at once."""

    per_minute: float
    burst: int


@dataclass(frozen=True)
class NotifierPolicy:
    """Everything a pack decides about notifications (DOMAIN.md §7)."""

    version: str
    timezone: ZoneInfo
    templates: Templates
    acknowledgements: Mapping[Kind, str]
    sla: Mapping[SlaEventKind, Mapping[str, str]]
    rules: tuple[Rule, ...]
    quiet_hours: QuietHours | None
    digest: DigestPolicy | None
    rate_limits: Mapping[str, RateLimit]
    severity_labels: Mapping[str, str] = field(default_factory=dict)
    clock_labels: Mapping[str, str] = field(default_factory=dict)
    incidents: IncidentPolicy = field(default_factory=IncidentPolicy)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> NotifierPolicy:
        """Parse and check the `notifier.yaml` of a pack; every template named must exist."""
        tz = _zone(raw.get("timezone", "Asia/Shanghai"))
        labels = _mapping(raw.get("labels") or {}, "labels")
        policy = cls(
            version=str(raw.get("version", "unversioned")),
            timezone=tz,
            templates=Templates(_mapping(raw.get("templates"), "templates")),
            acknowledgements={
                _enum(Kind, k, "acknowledgements"): str(v)
                for k, v in _mapping(raw.get("acknowledgements") or {}, "acknowledgements").items()
            },
            sla={
                _enum(SlaEventKind, k, "sla"): {str(a): str(t) for a, t in _mapping(v, k).items()}
                for k, v in _mapping(raw.get("sla") or {}, "sla").items()
            },
            rules=tuple(_rule(r) for r in _list(raw.get("rules"), "rules")),
            quiet_hours=_quiet_hours(raw.get("quiet_hours"), tz),
            digest=_digest(raw.get("digest")),
            rate_limits={
                check_channel(k): _rate_limit(v, f"rate_limits.{k}")
                for k, v in _mapping(raw.get("rate_limits") or {}, "rate_limits").items()
            },
            severity_labels={
                str(k): str(v)
                for k, v in _mapping(labels.get("severity") or {}, "labels.severity").items()
            },
            incidents=_incidents(raw.get("incidents")),
            clock_labels={
                str(k): str(v)
                for k, v in _mapping(labels.get("clock") or {}, "labels.clock").items()
            },
        )
        policy.check_templates()
        return policy

    def template_names(self) -> set[str]:
        """Every template the routing may ask for."""
        names = {*self.acknowledgements.values(), *(r.template for r in self.rules)}
        names |= {t for per_audience in self.sla.values() for t in per_audience.values()}
        if self.digest is not None:
            names.add(self.digest.template)
        names |= set(self.incidents.templates.values())
        return names

    def check_templates(self) -> None:
        """Fail when routing names a template the pack does not define."""
        if missing := sorted(n for n in self.template_names() if n not in self.templates):
            raise PolicyError(f"templates used by routing but not defined: {missing}")

    def with_quiet_hours(self, spec: str | None) -> NotifierPolicy:
        """This policy with the quiet window overridden: `HH:MM-HH:MM`, or `off`; blank: as is."""
        if spec is None or not spec.strip():
            return self
        if spec.strip().lower() in {"off", "none"}:
            return replace(self, quiet_hours=None)
        start, _, end = spec.partition("-")
        base = self.quiet_hours or QuietHours(time(21), time(8), self.timezone)
        window = QuietHours(
            start=_clock_time(start),
            end=_clock_time(end),
            timezone=base.timezone,
            exempt_severities=base.exempt_severities,
            exempt_templates=base.exempt_templates,
        )
        return replace(self, quiet_hours=window)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: expected a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected a list")
    return value


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise PolicyError(f"{where}: expected a positive number, got {str(value)[:40]!r}")
    return float(value)


def _rate_limit(raw: Any, where: str) -> RateLimit:
    raw = _mapping(raw, where)
    burst = _positive(raw.get("burst"), f"{where}.burst")
    if not burst.is_integer():
        raise PolicyError(f"{where}.burst: expected a whole number")
    return RateLimit(_positive(raw.get("per_minute"), f"{where}.per_minute"), int(burst))


def _enum(enum: type[E], value: Any, where: str) -> E:
    try:
        return enum(str(value))
    except ValueError as exc:
        raise PolicyError(f"{where}: unknown {enum.__name__} {value!r}") from exc


def _enums(enum: type[E], values: Any, where: str) -> frozenset[E]:
    return frozenset(_enum(enum, v, where) for v in values or [])


def check_channel(name: Any) -> str:
    """`name` if it is a channel the notifier has, else a PolicyError."""
    if name not in CHANNELS:
        raise PolicyError(f"unknown channel {name!r}; known: {sorted(CHANNELS)}")
    return str(name)


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"unknown time zone {name!r} (is tzdata installed?)") from exc


def _clock_time(text: Any) -> time:
    try:
        return time.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise PolicyError(f"not a time of day (HH:MM): {text!r}") from exc


def _trigger(text: Any) -> str:
    source, _, event = str(text).partition(".")
    if source == "classified" and not event:
        return source
    if source == "sla":
        return f"sla.{_enum(SlaEventKind, event, 'rules.triggers')}"
    if source == "lifecycle":
        action, _, answer = event.partition(".")
        trigger = f"lifecycle.{_enum(LifecycleAction, action, 'rules.triggers')}"
        if answer == REVIEW_NEEDED:  # lifecycle.closed.review_needed: 003's human review
            return f"{trigger}.{answer}"
        if answer:  # lifecycle.callback_done.dissatisfied: the customer's answer at callback
            return f"{trigger}.{_enum(Satisfaction, answer, 'rules.triggers')}"
        return trigger
    raise PolicyError(f"rules.triggers: {text!r} is not classified, sla.<x> or lifecycle.<x>")


def _rule(raw: Any) -> Rule:
    raw = _mapping(raw, "rules")
    if not all(raw.get(k) for k in ("id", "triggers", "notify", "template")):
        raise PolicyError("each rule needs id, triggers, notify and template")
    return Rule(
        id=str(raw["id"]),
        triggers=frozenset(_trigger(t) for t in raw["triggers"]),
        notify=tuple(_enum(Audience, a, "rules.notify") for a in raw["notify"]),
        template=str(raw["template"]),
        kinds=_enums(Kind, raw.get("kinds"), "rules.kinds"),
        severities=_enums(Severity, raw.get("severities"), "rules.severities"),
        flags=_enums(FlagName, raw.get("flags"), "rules.flags"),
        verdicts=_enums(Verdict, raw.get("verdicts"), "rules.verdicts"),
    )


def _quiet_hours(raw: Any, tz: ZoneInfo) -> QuietHours | None:
    if raw is None:
        return None
    raw = _mapping(raw, "quiet_hours")
    return QuietHours(
        start=_clock_time(raw.get("start", "21:00")),
        end=_clock_time(raw.get("end", "08:00")),
        timezone=_zone(raw["timezone"]) if "timezone" in raw else tz,
        exempt_severities=_enums(
            Severity, raw.get("exempt_severities", ["P1"]), "quiet_hours.exempt_severities"
        ),
        exempt_templates=frozenset(str(t) for t in raw.get("exempt_templates") or []),
    )


def _digest(raw: Any) -> DigestPolicy | None:
    if raw is None:
        return None
    raw = _mapping(raw, "digest")
    max_items = _positive(raw.get("max", 5), "digest.max")
    window = _positive(raw.get("window_seconds", 120), "digest.window_seconds")
    if not max_items.is_integer():
        raise PolicyError("digest.max: expected a whole number")
    return DigestPolicy(
        events=_enums(SlaEventKind, raw.get("events", ["warned"]), "digest.events"),
        max_items=int(max_items),
        window=timedelta(seconds=window),
        template=str(raw.get("template", "staff_digest")),
    )


def _incidents(raw: Any) -> IncidentPolicy:
    """The `incidents:` section (optional: operations, 2× and 5×, four hours)."""
    if raw is None:
        return IncidentPolicy()
    try:
        return IncidentPolicy.from_mapping(_mapping(raw, "incidents"))
    except (TypeError, ValueError) as error:
        raise PolicyError(f"incidents: {error}") from error
