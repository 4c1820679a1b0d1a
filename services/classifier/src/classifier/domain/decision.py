"""What the classifier reads and what it decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from contracts import Channel, CustomerTier, Flag, Kind, Reason, Severity

if TYPE_CHECKING:
    from classifier.domain.rules import Firing


@dataclass(frozen=True)
class ClassifierInput:
    """One message to classify; the text may be Traditional or Simplified, raw or normalised."""

    text: str
    channel: Channel
    customer_tier: CustomerTier = CustomerTier.STANDARD
    complainant_key: str | None = None


@dataclass(frozen=True)
class PriorComplaint:
    """An earlier complaint the service found in its store."""

    complaint_id: str
    complainant_key: str | None
    category: str | None
    received_at: datetime
    area: str | None
    tier: CustomerTier = CustomerTier.STANDARD
    incident_id: str | None = None
    in_closed_incident: bool = False
    """A member of an incident operations closed: its burst is over, a new one starts over."""


IMPORTANT_TIERS = frozenset(
    {
        CustomerTier.GOLD,
        CustomerTier.PLATINUM,
        CustomerTier.DIAMOND,
        CustomerTier.GOVERNMENT,
        CustomerTier.ENTERPRISE_A,
    }
)
"""Tiers 000 counts as VIP for the mass-incident rule unless the pack says otherwise."""


@dataclass(frozen=True)
class History:
    """Earlier complaints relevant to repeat, hot-issue and mass-incident rules."""

    same_complainant: tuple[PriorComplaint, ...] = ()
    same_category_recent: tuple[PriorComplaint, ...] = ()


@dataclass(frozen=True)
class HistoryWindows:
    """How far back the history rules look, and how many complaints make a pattern."""

    repeat_days: int = 90
    hot_issue_days: int = 30
    hot_issue_min_complainants: int = 3
    mass_incident_minutes: int = 30
    mass_incident_min_complaints: int = 20
    mass_incident_min_important: int = 3
    """000: 「___個vip客戶投訴同一問題」 — this many important customers also open an incident."""
    important_tiers: frozenset[CustomerTier] = field(default=IMPORTANT_TIERS)


@dataclass(frozen=True)
class Decision:
    """Kind, category path, severity and flags, with the reasons and versions behind them."""

    kind: Kind
    category: str | None
    severity: Severity | None
    flags: tuple[Flag, ...]
    confidence: float
    explanation: tuple[Reason, ...]
    model_version: str
    policy: str
    policy_version: str
    incident_key: str | None = None
    incident_members: tuple[str, ...] = ()
    """Earlier complaints of the mass incident's burst (all of them; the flag lists a few)."""

    def has_flag(self, name: str) -> bool:
        """Whether the decision carries the flag `name`."""
        return any(flag.name == name for flag in self.flags)

    @property
    def top_category(self) -> str | None:
        """First segment of the category path, e.g. `billing`."""
        return self.category.split("/", 1)[0] if self.category else None


@dataclass(frozen=True, slots=True)
class Reading:
    """What one message says before its history is known (`Classifier.read_many`).

    For a complaint: its category path, the rules that fired and the place it names; the
    explanation so far (kind, model, taxonomy and rule reasons, in decision order).
    """

    item: ClassifierInput
    kind: Kind
    confidence: float
    explanation: tuple[Reason, ...]
    category: str | None = None
    firings: tuple[Firing, ...] = ()
    area: str | None = None
