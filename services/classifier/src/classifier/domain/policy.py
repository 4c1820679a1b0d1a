"""A policy pack's classifier rules as typed, validated values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from classifier.domain.decision import HistoryWindows
from classifier.domain.lexicon import LexiconIndex
from classifier.domain.scopes import Scope
from contracts import Channel, CustomerTier, FlagName, Kind, Severity


class PolicyError(Exception):
    """A policy pack is missing, malformed or inconsistent; the message names file and problem."""


@dataclass(frozen=True)
class Subcategory:
    """A leaf of the taxonomy with the keywords that point to it."""

    code: str
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """A top-level category of the taxonomy."""

    code: str
    name: str
    keywords: tuple[str, ...]
    subcategories: tuple[Subcategory, ...] = ()
    sub_index: LexiconIndex = field(init=False, compare=False, repr=False)
    """The subcategories' keywords indexed by first character, for `category_path`."""

    def __post_init__(self) -> None:
        """Index the subcategories' keywords once, at load time."""
        index = LexiconIndex({sub.code: sub.keywords for sub in self.subcategories})
        object.__setattr__(self, "sub_index", index)


@dataclass(frozen=True)
class CountLevel:
    """A head-count threshold: at least `minimum` people gives `severity`."""

    minimum: int
    severity: Severity


@dataclass(frozen=True)
class Rule:
    """An explainable rule: fires on any of its channels, tiers or patterns, unless vetoed."""

    id: str
    channels: frozenset[Channel] = frozenset()
    tiers: frozenset[CustomerTier] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()
    requires: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    unless_rules: tuple[str, ...] = ()
    unless_channels: frozenset[Channel] = frozenset()
    unless_scopes: tuple[Scope, ...] = ()
    severity: Severity | None = None
    flags: tuple[FlagName, ...] = ()
    count_levels: tuple[CountLevel, ...] = ()
    kind: Kind | None = None
    detail: str | None = None


@dataclass(frozen=True)
class HistoryPolicy:
    """Windows and outcomes of the history rules (repeat, hot issue, mass incident)."""

    windows: HistoryWindows = field(default_factory=HistoryWindows)
    repeat_severity: Severity = Severity.P3
    hot_issue_severity: Severity = Severity.P2
    mass_incident_severity: Severity = Severity.P2


@dataclass(frozen=True)
class ClassifierPolicy:
    """Everything a pack tells the classifier."""

    name: str
    version: str
    description: str
    categories: tuple[Category, ...]
    kind_rules: tuple[Rule, ...]
    rules: tuple[Rule, ...]
    history: HistoryPolicy
    model_file: str | None
    min_confidence: float
    default_severity: Severity = Severity.P4
    fallback_category: str = "other"
    categories_by_code: dict[str, Category] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Index categories by code for path lookups."""
        self.categories_by_code.update({c.code: c for c in self.categories})
