"""Staff corrections of a decision (`regraded` actions) and the training lines they become."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from contracts import CaseAction, Channel, CustomerTier, FlagName, Kind, LifecycleAction, Severity

_FIELD_BREAK = re.compile(r"\s*\|\s*|\s+")


class NotARegradeError(ValueError):
    """The action is not a complete `regraded` action."""


@dataclass(frozen=True)
class Correction:
    """What a lead or manager says the decision should have been, and why."""

    complaint_id: str
    action_id: str
    actor: str
    role: str
    occurred_at: datetime
    reason: str
    kind: Kind
    category: str | None
    severity: Severity | None
    flags: tuple[FlagName, ...]

    @property
    def label(self) -> str:
        """The model's class for this correction: the top category, or the kind."""
        if self.kind is Kind.COMPLAINT and self.category:
            return self.category.split("/", 1)[0]
        return self.kind.value


def correction_of(action: CaseAction) -> Correction:
    """The correction a `regraded` action records (the contract has checked its fields)."""
    if action.action is not LifecycleAction.REGRADED or action.regrade is None:
        raise NotARegradeError(f"{action.action.value} is not a regrade")
    regrade = action.regrade
    return Correction(
        complaint_id=action.complaint_id,
        action_id=action.action_id,
        actor=action.actor,
        role=action.actor_role.value if action.actor_role else "",
        occurred_at=action.occurred_at,
        reason=action.reason or "",
        kind=regrade.kind,
        category=regrade.category,
        severity=regrade.severity,
        flags=tuple(dict.fromkeys(regrade.flags)),
    )


def training_line(
    correction: Correction, *, text: str, channel: Channel, tier: CustomerTier
) -> str:
    """One line in the training TSV format: `label | severity | flags | channel | tier | text`.

    The text is the masked one intake stored; line breaks and the field separator inside it
    become single spaces so that one correction is always one line.
    """
    flags = ",".join(flag.value for flag in correction.flags) or "-"
    severity = correction.severity.value if correction.severity else "-"
    flat = _FIELD_BREAK.sub(" ", text).strip()
    return f"{correction.label} | {severity} | {flags} | {channel.value} | {tier.value} | {flat}"
