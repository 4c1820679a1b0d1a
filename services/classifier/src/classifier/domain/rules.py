"""Evaluating a pack's explainable rules against one message."""

from __future__ import annotations

from dataclasses import dataclass

from classifier.domain.numerals import parse_count
from classifier.domain.policy import Rule
from contracts import Channel, CustomerTier, Flag, Reason, Severity


@dataclass(frozen=True)
class Firing:
    """A rule that fired: what it matched, the head count it read and the severity it gives."""

    rule: Rule
    matched: tuple[str, ...]
    count: int | None
    severity: Severity | None

    def reason(self) -> Reason:
        """The explanation entry for this firing."""
        effects = [f"severity={self.severity.value}"] if self.severity else []
        effects += [f"flag={flag.value}" for flag in self.rule.flags]
        if self.rule.kind is not None:
            effects.append(f"kind={self.rule.kind.value}")
        if self.count is not None:
            effects.append(f"count={self.count}")
        return Reason(rule=self.rule.id, effect="; ".join(effects), matched=list(self.matched))

    def flags(self) -> list[Flag]:
        """The flags this firing raises."""
        return [
            Flag(name=name, detail=self.rule.detail or self.rule.id, count=self.count)
            for name in self.rule.flags
        ]


def evaluate(
    rule: Rule, *, text: str, channel: Channel, tier: CustomerTier, fired: set[str]
) -> Firing | None:
    """Whether `rule` fires on the normalised `text`; `fired` holds ids of earlier firings."""
    if channel in rule.unless_channels or fired.intersection(rule.unless_rules):
        return None
    if any(p.search(text) for p in rule.unless):
        return None
    matched: list[str] = []
    if channel in rule.channels:
        matched.append(f"channel={channel.value}")
    if tier in rule.tiers:
        matched.append(f"tier={tier.value}")
    count: int | None = None
    for pattern in rule.patterns:
        found = pattern.search(text)
        if found is None:
            continue
        matched.append(found.group(0))
        if "count" in pattern.groupindex and found.group("count"):
            number = parse_count(found.group("count"))
            count = number if count is None or (number or 0) > count else count
    if not matched or not all(p.search(text) for p in rule.requires):
        return None
    severity = rule.severity
    if rule.count_levels:
        if count is None:
            return None
        levels = [lvl.severity for lvl in rule.count_levels if count >= lvl.minimum]
        if not levels:
            return None
        severity = levels[0]
    return Firing(rule=rule, matched=tuple(matched), count=count, severity=severity)


def evaluate_all(
    rules: tuple[Rule, ...], *, text: str, channel: Channel, tier: CustomerTier
) -> list[Firing]:
    """Every rule that fires, in pack order (later rules may be vetoed by earlier ones)."""
    fired: set[str] = set()
    firings = []
    for rule in rules:
        firing = evaluate(rule, text=text, channel=channel, tier=tier, fired=fired)
        if firing is not None:
            fired.add(rule.id)
            firings.append(firing)
    return firings
