"""Evaluating a pack's explainable rules against one message."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from classifier.domain.numerals import parse_count
from classifier.domain.policy import Rule
from classifier.domain.required_chars import CharBits, required_chars
from classifier.domain.scopes import voided_by
from contracts import Channel, CustomerTier, Flag, Reason, Severity

Span = tuple[int, int]
MAX_MATCHES = 32
"""Matches of one pattern tried against the scopes; a real message has a handful."""
Quote = Callable[[Span], str]


@dataclass(frozen=True)
class Firing:
    """A rule that fired: what it matched, the head count it read and the severity it gives."""

    rule: Rule
    matched: tuple[str, ...]
    count: int | None
    severity: Severity | None
    spans: tuple[Span, ...] = ()
    """Where each text match lies in the normalised text, in pattern order."""

    def reason(self, quote: Quote | None = None) -> Reason:
        """The explanation entry, quoting the customer's own words through `quote` if given."""
        matched = list(self.matched)
        if quote is not None and self.spans:
            texts = [quote(span) for span in self.spans]
            matched = [m for m in matched if m.startswith(("channel=", "tier="))] + texts
        effects = [f"severity={self.severity.value}"] if self.severity else []
        effects += [f"flag={flag.value}" for flag in self.rule.flags]
        if self.rule.kind is not None:
            effects.append(f"kind={self.rule.kind.value}")
        if self.count is not None:
            effects.append(f"count={self.count}")
        return Reason(rule=self.rule.id, effect="; ".join(effects), matched=matched)

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
    found, count = _text_matches(rule, text)
    matched += [m.group(0) for m in found]
    spans = [m.span() for m in found]
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
    return Firing(
        rule=rule, matched=tuple(matched), count=count, severity=severity, spans=tuple(spans)
    )


def _text_matches(rule: Rule, text: str) -> tuple[list[re.Match[str]], int | None]:
    """One standing match per pattern that has one, and the largest head count read."""
    found: list[re.Match[str]] = []
    count: int | None = None
    for pattern in rule.patterns:
        match = pattern.search(text)  # most patterns, most messages: one C-level search
        if match is None:
            continue
        if rule.unless_scopes or "count" in pattern.groupindex:
            match = _standing_match(rule, pattern, text, match)
            if match is None:
                continue
        found.append(match)
        if "count" in pattern.groupindex and match.group("count"):
            number = parse_count(match.group("count"))
            count = number if count is None or (number or 0) > count else count
    return found, count


def _standing_match(
    rule: Rule, pattern: re.Pattern[str], text: str, first: re.Match[str]
) -> re.Match[str] | None:
    """The first match no scope of the rule voids; for head counts, the one with most people."""
    counted = "count" in pattern.groupindex
    if not counted and not (
        rule.unless_scopes and voided_by(text, first.start(), first.end(), rule.unless_scopes)
    ):
        return first
    best: re.Match[str] | None = None
    best_count = -1
    for tried, found in enumerate(pattern.finditer(text)):
        if tried >= MAX_MATCHES:
            break
        if rule.unless_scopes and voided_by(text, found.start(), found.end(), rule.unless_scopes):
            continue
        if not counted:
            return found
        number = parse_count(found.group("count") or "") or 0
        if number > best_count:
            best, best_count = found, number
    return best


class RuleBook:
    """A pack's rules in order, each pattern with the requirement bits a text must meet first.

    Most rules fail on most messages because none of their patterns can match: the text lacks a
    character every match needs. `CharBits.met` answers that for every pattern of every book
    sharing the table in one pass over the text's characters; a pattern is searched only when
    its bits are all met. Vetoes and scopes are looked at only for rules that triggered.
    """

    def __init__(self, rules: tuple[Rule, ...], bits: CharBits) -> None:
        """Read each pattern's requirements into `bits` (shared with the pack's other book)."""
        self.rules = rules
        self._entries = [
            (
                rule,
                tuple((p, bits.need(required_chars(p))) for p in rule.patterns),
                tuple(bits.need(required_chars(p)) for p in rule.requires),
            )
            for rule in rules
        ]

    def evaluate(
        self, *, text: str, channel: Channel, tier: CustomerTier, met: int
    ) -> list[Firing]:
        """Every rule that fires on normalised `text`, in pack order (later rules may be vetoed
        by earlier ones); `met` is `CharBits.met` of the text's characters."""
        fired: set[str] = set()
        firings = []
        for rule, checks, also in self._entries:
            if not (channel in rule.channels or tier in rule.tiers):
                for pattern, need in checks:
                    if met & need == need and pattern.search(text):
                        break
                else:
                    continue
            if also and any(met & need != need for need in also):
                continue  # a pattern the rule also requires cannot match
            firing = evaluate(rule, text=text, channel=channel, tier=tier, fired=fired)
            if firing is not None:
                fired.add(rule.id)
                firings.append(firing)
        return firings
