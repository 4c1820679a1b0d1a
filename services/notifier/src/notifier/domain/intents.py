"""Who is told what: notification intents derived from pipeline events (DOMAIN.md §7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from pydantic import BaseModel

from contracts import (
    Audience,
    CaseTransition,
    ClassifiedComplaint,
    ClockName,
    FlagName,
    Severity,
    SlaChange,
    SlaEventKind,
)
from contracts.incidents import INCIDENT_ACTOR
from notifier.domain.intent import Intent, Origin, local_time, notification_key
from notifier.domain.policy import STAFF, NotifierPolicy, Rule

_ALERTS = {
    SlaEventKind.WARNED,
    SlaEventKind.BREACHED,
    SlaEventKind.ESCALATED,
    SlaEventKind.UPGRADED,
}


@dataclass(frozen=True)
class _Scope:
    """The case and trigger a rule fires for."""

    complaint_id: str
    severity: Severity | None
    at: datetime
    origin: Origin | None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Router:
    """Turns events into intents following the pack's routing."""

    def __init__(self, policy: NotifierPolicy) -> None:
        self.policy = policy

    def for_classified(
        self, data: ClassifiedComplaint, *, at: datetime, origin: Origin | None = None
    ) -> list[Intent]:
        """Acknowledge non-complaints; tell leadership, media contact, security, management."""
        if data.duplicate_of:
            return []
        cid = data.complaint_id
        context = (
            self._case(cid, data.severity)
            | {
                "kind": data.kind.value,
                "category": data.category or "",
                "channel": data.channel.value,
                "received": local_time(data.received_at, self.policy.timezone),
            }
            | _hot_issue(data)
        )
        intents = []
        if (template := self.policy.acknowledgements.get(data.kind)) is not None:
            intents.append(
                Intent(
                    key=notification_key(cid, "ack", "-", "-", Audience.CUSTOMER),
                    complaint_id=cid,
                    audience=Audience.CUSTOMER,
                    template=template,
                    trigger_time=at,
                    context=context,
                    severity=data.severity,
                    origin=origin,
                    acknowledgement=True,
                )
            )
        rules = [
            r
            for r in self.policy.rules
            if r.matches(
                "classified",
                kind=data.kind,
                severity=data.severity,
                flags=(f.name for f in data.flags),
                reasons=(r.rule for r in data.explanation),
            )
        ]
        scope = _Scope(cid, data.severity, at, origin)
        level = data.severity.value if data.severity else "-"
        return intents + self._from_rules(rules, scope, clock="-", level=level, context=context)

    def for_sla(
        self, change: SlaChange, *, at: datetime, origin: Origin | None = None
    ) -> list[Intent]:
        """Acknowledge complaints with their promised time; warn, escalate, tell of delays."""
        if change.event is SlaEventKind.SET:
            return self._acknowledgement(change, at, origin)
        context = self._sla_context(change)
        intents = []
        if change.event in _ALERTS:
            intents += self._alerts(change, context, at, origin)
        rules = [
            r
            for r in self.policy.rules
            if r.matches(f"sla.{change.event.value}", severity=change.severity)
        ]
        scope = _Scope(change.complaint_id, change.severity, at, origin)
        return intents + self._from_rules(
            rules, scope, clock="-", level=change.severity.value, context=context
        )

    def for_transition(
        self, transition: CaseTransition, *, at: datetime, origin: Origin | None = None
    ) -> list[Intent]:
        """Accepted staff actions: the assigned handler, the customer's result or delay notice."""
        trigger = f"lifecycle.{transition.action.value}"
        triggers = [trigger]
        if transition.satisfaction:  # lifecycle.callback_done.<answer>
            triggers.append(f"{trigger}.{transition.satisfaction.value}")
        if transition.review_needed:  # 003: the complainant now needs human review
            triggers.append(f"{trigger}.review_needed")
        verdict = transition.verdict
        rules = [
            r
            for r in self.policy.rules
            if any(r.matches(t, severity=transition.severity, verdict=verdict) for t in triggers)
        ]
        if not rules:
            return []
        context = self._transition_context(transition)
        clock = transition.clock.value if transition.clock else "-"
        scope = _Scope(transition.complaint_id, transition.severity, at, origin)
        intents = self._from_rules(
            rules, scope, clock=clock, level=transition.action_id, context=context
        )
        if transition.actor.startswith(INCIDENT_ACTOR):
            # A member resolved by its incident's close: the restoration notice was its result.
            return [i for i in intents if i.audience is not Audience.CUSTOMER]
        return intents

    def _acknowledgement(
        self, change: SlaChange, at: datetime, origin: Origin | None
    ) -> list[Intent]:
        template = self.policy.sla.get(SlaEventKind.SET, {}).get(Audience.CUSTOMER.value)
        if template is None:
            return []
        due = {d.clock: d.due_at_local for d in change.deadlines}
        promised = due.get(ClockName.RESOLUTION) or due.get(ClockName.REGULATOR_REPLY) or ""
        cid = change.complaint_id
        return [
            Intent(
                key=notification_key(cid, "ack", "-", "-", Audience.CUSTOMER),
                complaint_id=cid,
                audience=Audience.CUSTOMER,
                template=template,
                trigger_time=at,
                context=self._case(cid, change.severity) | {"promised": promised},
                severity=change.severity,
                origin=origin,
                acknowledgement=True,
            )
        ]

    def _alerts(
        self, change: SlaChange, context: dict[str, str], at: datetime, origin: Origin | None
    ) -> list[Intent]:
        templates = self.policy.sla.get(change.event, {})
        clock = change.clock.value if change.clock else "severity"
        level = (
            change.severity.value
            if change.event is SlaEventKind.UPGRADED
            else f"{change.threshold}"
        )
        digest = self.policy.digest
        intents = []
        for audience in dict.fromkeys(change.audiences):
            group = Audience.CUSTOMER.value if audience is Audience.CUSTOMER else STAFF
            template = templates.get(audience.value) or templates.get(group)
            if template is None:
                continue
            intents.append(
                Intent(
                    key=notification_key(
                        change.complaint_id,
                        change.event.value,
                        f"{clock}#{change.occurrence}",
                        level,
                        audience,
                    ),
                    complaint_id=change.complaint_id,
                    audience=audience,
                    template=template,
                    trigger_time=at,
                    context=context,
                    severity=change.severity,
                    digestible=bool(digest and change.event in digest.events and group == STAFF),
                    origin=origin,
                )
            )
        return intents

    def _from_rules(
        self,
        rules: Iterable[Rule],
        scope: _Scope,
        *,
        clock: str,
        level: str,
        context: Mapping[str, str],
    ) -> list[Intent]:
        return [
            Intent(
                key=notification_key(scope.complaint_id, rule.id, clock, level, audience),
                complaint_id=scope.complaint_id,
                audience=audience,
                template=rule.template,
                trigger_time=scope.at,
                context=dict(context),
                severity=scope.severity,
                origin=scope.origin,
            )
            for rule in rules
            for audience in rule.notify
        ]

    def _case(self, cid: str, severity: Severity | None) -> dict[str, str]:
        sev = severity.value if severity else ""
        return {
            "case": cid,
            "severity": sev,
            "severity_label": self.policy.severity_labels.get(sev, sev),
        }

    def _clock(self, clock: ClockName | None) -> dict[str, str]:
        name = clock.value if clock else ""
        return {"clock": name, "clock_label": self.policy.clock_labels.get(name, name)}

    def _sla_context(self, change: SlaChange) -> dict[str, str]:
        previous = change.previous_severity.value if change.previous_severity else ""
        return (
            self._case(change.complaint_id, change.severity)
            | self._clock(change.clock)
            | {
                "event": change.event.value,
                "threshold": str(change.threshold or ""),
                "due": local_time(change.due_at, self.policy.timezone),
                "previous_severity": previous,
                "previous_severity_label": self.policy.severity_labels.get(previous, previous),
            }
        )

    def _transition_context(self, transition: CaseTransition) -> dict[str, str]:
        fields = transition_fields(transition)
        return (
            fields
            | self._case(transition.complaint_id, transition.severity)
            | self._clock(transition.clock)
            | {"occurred": local_time(transition.occurred_at, self.policy.timezone)}
        )


def transition_fields(model: BaseModel) -> dict[str, str]:
    """Every scalar field of an event's data as text: templates may use what the event carries."""
    return {
        name: _text(getattr(model, name))
        for name in type(model).model_fields
        if not isinstance(getattr(model, name), list | dict)
    }


def _hot_issue(data: ClassifiedComplaint) -> dict[str, str]:
    """For a hot issue: how many complainants, and the complaints behind it (ids only)."""
    flag = next((f for f in data.flags if f.name is FlagName.HOT_ISSUE), None)
    if flag is None:
        return {}
    return {
        "hot_issue_detail": f"{flag.count}位客户" if flag.count else "多位客户",
        "hot_issue_related": "、".join(flag.related) or "无",
    }
