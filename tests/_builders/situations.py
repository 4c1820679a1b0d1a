"""One check of a situation's grading, shared by the situation suites (issue 16): the kind,
severity and flags DOMAIN.md gives a wording, in Simplified or in Traditional (OpenCC s2t)."""

from __future__ import annotations

from datetime import UTC, datetime

import opencc

from classifier.domain import Classifier, ClassifierInput
from contracts import Channel, CustomerTier, Kind

RECEIVED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
TRADITIONAL = opencc.OpenCC("s2t")

# (text, channel, kind, severity, flags that must be there, flags that must not)
Case = tuple[str, Channel, Kind, str | None, set[str], set[str]]


def assert_graded_as_domain_says(telecom: Classifier, case: Case, script: str) -> None:
    """The case's kind, severity and flags, in Simplified or in Traditional script."""
    text, channel, kind, severity, present, absent = case
    text = TRADITIONAL.convert(text) if script == "traditional" else text
    decision = telecom.classify(
        ClassifierInput(text, channel, CustomerTier.STANDARD), received_at=RECEIVED
    )
    flags = {flag.name.value for flag in decision.flags}
    assert decision.kind is kind
    assert (decision.severity.value if decision.severity else None) == severity, (
        decision.explanation
    )
    assert present <= flags
    assert not absent & flags


def numbered(groups: dict[str, list[Case]]) -> tuple[list[Case], list[str]]:
    """Every group's cases in one list, and their test ids (`group-n`)."""
    cases = [case for group in groups.values() for case in group]
    ids = [f"{name}-{n}" for name, group in groups.items() for n in range(len(group))]
    return cases, ids
