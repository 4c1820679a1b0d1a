"""The notifier section of a policy pack: routing, quiet hours, digests, rate limits, labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
from notifier.domain.policy_values import (
    PolicyError,
    check_channel,
    clock_time,
    enum_of,
    enums,
    listed,
    mapping,
    positive,
    zone,
)
from notifier.domain.templates import Templates

STAFF = "staff"
"""Key of the template every audience but the customer gets in an `sla:` entry."""
REVIEW_NEEDED = "review_needed"
"""The lifecycle trigger suffix for a transition that flags its complainant for review (003)."""


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
    explained_by: frozenset[str] = frozenset()
    """Classifier rule ids: the rule fires only if the decision's explanation names one of them."""

    def matches(
        self,
        trigger: str,
        *,
        kind: Kind | None = None,
        severity: Severity | None = None,
        flags: Iterable[FlagName] = (),
        verdict: Verdict | None = None,
        reasons: Iterable[str] = (),
    ) -> bool:
        """Whether this rule fires for `trigger` on a case with these properties."""
        return (
            trigger in self.triggers
            and (not self.kinds or kind in self.kinds)
            and (not self.severities or severity in self.severities)
            and (not self.flags or bool(self.flags & set(flags)))
            and (not self.verdicts or verdict in self.verdicts)
            and (not self.explained_by or bool(self.explained_by & set(reasons)))
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


MERGING_CHANNELS = frozenset({"wecom", "dingtalk"})
"""Channels whose waiting messages may be merged: staff group robots. Never a customer's SMS
or e-mail, nor the webhook (a machine reads one event per call)."""


@dataclass(frozen=True)
class RateLimit:
    """Token bucket per (recipient, channel): `per_minute` sustained, `burst` at once; on a
    group robot, up to `merge` waiting staff messages go as one `template` message (ADR 0043)."""

    per_minute: float
    burst: int
    merge: int = 1
    template: str | None = None


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
        tz = zone(raw.get("timezone", "Asia/Shanghai"))
        labels = mapping(raw.get("labels") or {}, "labels")
        policy = cls(
            version=str(raw.get("version", "unversioned")),
            timezone=tz,
            templates=Templates(mapping(raw.get("templates"), "templates")),
            acknowledgements={
                enum_of(Kind, k, "acknowledgements"): str(v)
                for k, v in mapping(raw.get("acknowledgements") or {}, "acknowledgements").items()
            },
            sla={
                enum_of(SlaEventKind, k, "sla"): {str(a): str(t) for a, t in mapping(v, k).items()}
                for k, v in mapping(raw.get("sla") or {}, "sla").items()
            },
            rules=tuple(_rule(r) for r in listed(raw.get("rules"), "rules")),
            quiet_hours=_quiet_hours(raw.get("quiet_hours"), tz),
            digest=_digest(raw.get("digest")),
            rate_limits={
                check_channel(k): _rate_limit(v, f"rate_limits.{k}")
                for k, v in mapping(raw.get("rate_limits") or {}, "rate_limits").items()
            },
            severity_labels={
                str(k): str(v)
                for k, v in mapping(labels.get("severity") or {}, "labels.severity").items()
            },
            incidents=_incidents(raw.get("incidents")),
            clock_labels={
                str(k): str(v)
                for k, v in mapping(labels.get("clock") or {}, "labels.clock").items()
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
        names |= {r.template for r in self.rate_limits.values() if r.template}
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
            start=clock_time(start),
            end=clock_time(end),
            timezone=base.timezone,
            exempt_severities=base.exempt_severities,
            exempt_templates=base.exempt_templates,
        )
        return replace(self, quiet_hours=window)


def _rate_limit(raw: Any, where: str) -> RateLimit:
    raw = mapping(raw, where)
    burst = positive(raw.get("burst"), f"{where}.burst")
    merge = positive(raw.get("merge", 1), f"{where}.merge")
    for name, value in (("burst", burst), ("merge", merge)):
        if not value.is_integer():
            raise PolicyError(f"{where}.{name}: expected a whole number")
    template = raw.get("merge_template")
    if merge > 1 and (where.rpartition(".")[2] not in MERGING_CHANNELS or not template):
        raise PolicyError(f"{where}.merge: only the group robots merge, with a merge_template")
    per_minute = positive(raw.get("per_minute"), f"{where}.per_minute")
    return RateLimit(per_minute, int(burst), int(merge), str(template) if merge > 1 else None)


def _trigger(text: Any) -> str:
    source, _, event = str(text).partition(".")
    if source == "classified" and not event:
        return source
    if source == "sla":
        return f"sla.{enum_of(SlaEventKind, event, 'rules.triggers')}"
    if source == "lifecycle":
        action, _, answer = event.partition(".")
        trigger = f"lifecycle.{enum_of(LifecycleAction, action, 'rules.triggers')}"
        if answer == REVIEW_NEEDED:  # lifecycle.closed.review_needed: 003's human review
            return f"{trigger}.{answer}"
        if answer:  # lifecycle.callback_done.dissatisfied: the customer's answer at callback
            return f"{trigger}.{enum_of(Satisfaction, answer, 'rules.triggers')}"
        return trigger
    raise PolicyError(f"rules.triggers: {text!r} is not classified, sla.<x> or lifecycle.<x>")


def _rule(raw: Any) -> Rule:
    raw = mapping(raw, "rules")
    if not all(raw.get(k) for k in ("id", "triggers", "notify", "template")):
        raise PolicyError("each rule needs id, triggers, notify and template")
    return Rule(
        id=str(raw["id"]),
        triggers=frozenset(_trigger(t) for t in raw["triggers"]),
        notify=tuple(enum_of(Audience, a, "rules.notify") for a in raw["notify"]),
        template=str(raw["template"]),
        kinds=enums(Kind, raw.get("kinds"), "rules.kinds"),
        severities=enums(Severity, raw.get("severities"), "rules.severities"),
        flags=enums(FlagName, raw.get("flags"), "rules.flags"),
        verdicts=enums(Verdict, raw.get("verdicts"), "rules.verdicts"),
        explained_by=frozenset(str(r) for r in raw.get("explained_by") or ()),
    )


def _quiet_hours(raw: Any, tz: ZoneInfo) -> QuietHours | None:
    if raw is None:
        return None
    raw = mapping(raw, "quiet_hours")
    return QuietHours(
        start=clock_time(raw.get("start", "21:00")),
        end=clock_time(raw.get("end", "08:00")),
        timezone=zone(raw["timezone"]) if "timezone" in raw else tz,
        exempt_severities=enums(
            Severity, raw.get("exempt_severities", ["P1"]), "quiet_hours.exempt_severities"
        ),
        exempt_templates=frozenset(str(t) for t in raw.get("exempt_templates") or []),
    )


def _digest(raw: Any) -> DigestPolicy | None:
    if raw is None:
        return None
    raw = mapping(raw, "digest")
    max_items = positive(raw.get("max", 5), "digest.max")
    window = positive(raw.get("window_seconds", 120), "digest.window_seconds")
    if not max_items.is_integer():
        raise PolicyError("digest.max: expected a whole number")
    return DigestPolicy(
        events=enums(SlaEventKind, raw.get("events", ["warned"]), "digest.events"),
        max_items=int(max_items),
        window=timedelta(seconds=window),
        template=str(raw.get("template", "staff_digest")),
    )


def _incidents(raw: Any) -> IncidentPolicy:
    """The `incidents:` section (optional: operations, 2× and 5×, four hours)."""
    if raw is None:
        return IncidentPolicy()
    try:
        return IncidentPolicy.from_mapping(mapping(raw, "incidents"))
    except (TypeError, ValueError) as error:
        raise PolicyError(f"incidents: {error}") from error
