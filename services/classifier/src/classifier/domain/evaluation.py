"""Scores of classifier decisions against expected labels: accuracy, macro-F1, confusion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

NOT_A_COMPLAINT = "(none)"
SCORED_FLAGS = ("over_level", "media", "litigation", "collective", "safety", "vip")
"""Flags whose precision and recall the evaluation reports (the ones a manager acts on first)."""


@dataclass(frozen=True)
class Labels:
    """Kind, top-level category, severity and flags of one message (expected or predicted)."""

    kind: str
    category: str | None
    severity: str | None
    flags: frozenset[str] = frozenset()

    @property
    def top(self) -> str:
        """Top-level category, or a marker for non-complaints."""
        return self.category.split("/", 1)[0] if self.category else NOT_A_COMPLAINT


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall, F1 and support of one category."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Headline figures, the per-category table and the category confusion matrix."""

    count: int
    kind_accuracy: float
    category_macro_f1: float
    severity_accuracy: float
    per_class: dict[str, ClassScore]
    confusion: dict[str, dict[str, int]]
    per_flag: dict[str, ClassScore] = field(default_factory=dict)
    severity_confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A plain-text rendering for the evaluation script."""
        out = [
            f"n={self.count}  kind accuracy={self.kind_accuracy:.3f}  "
            f"category macro-F1={self.category_macro_f1:.3f}  "
            f"severity accuracy={self.severity_accuracy:.3f}",
            f"{'category':<18}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}",
        ]
        for name, score in self.per_class.items():
            out.append(
                f"{name:<18}{score.precision:>10.3f}{score.recall:>10.3f}"
                f"{score.f1:>8.3f}{score.support:>9}"
            )
        columns = sorted({p for row in self.confusion.values() for p in row})
        out.append("confusion (rows expected, columns predicted):")
        out.append(" " * 18 + "".join(f"{c[:7]:>8}" for c in columns))
        for expected, row in self.confusion.items():
            out.append(f"{expected:<18}" + "".join(f"{row.get(c, 0):>8}" for c in columns))
        if self.per_flag:
            out.append(f"{'flag':<18}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}")
            for name, score in self.per_flag.items():
                out.append(
                    f"{name:<18}{score.precision:>10.3f}{score.recall:>10.3f}"
                    f"{score.f1:>8.3f}{score.support:>9}"
                )
        if self.severity_confusion:
            levels = sorted({p for row in self.severity_confusion.values() for p in row})
            out.append("severity confusion (rows expected, columns predicted):")
            out.append(" " * 18 + "".join(f"{c:>8}" for c in levels))
            for expected, row in self.severity_confusion.items():
                out.append(f"{expected:<18}" + "".join(f"{row.get(c, 0):>8}" for c in levels))
        return out


def _score(correct: int, guessed: int, truth: int) -> ClassScore:
    """Precision, recall and F1 from counts (0 where undefined)."""
    precision = correct / guessed if guessed else 0.0
    recall = correct / truth if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassScore(precision, recall, f1, truth)


def flag_scores(pairs: Sequence[tuple[Labels, Labels]]) -> dict[str, ClassScore]:
    """Precision and recall of each scored flag over every message."""
    return {
        name: _score(
            sum(name in e.flags and name in p.flags for e, p in pairs),
            sum(name in p.flags for _, p in pairs),
            sum(name in e.flags for e, _ in pairs),
        )
        for name in SCORED_FLAGS
    }


def evaluate(pairs: Sequence[tuple[Labels, Labels]]) -> Report:
    """Score (expected, predicted) pairs.

    Kind and severity accuracy run over every message (severity None must match None). Category
    macro-F1 averages over the categories of expected complaints; a complaint predicted as a
    non-complaint counts as a miss of its category.
    """
    if not pairs:
        raise ValueError("nothing to evaluate")
    kind_hits = sum(expected.kind == predicted.kind for expected, predicted in pairs)
    severity_hits = sum(expected.severity == predicted.severity for expected, predicted in pairs)
    complaints = [(e, p) for e, p in pairs if e.category is not None]
    classes = sorted({e.top for e, _ in complaints})
    truth = Counter(e.top for e, _ in complaints)
    guessed = Counter(p.top for _, p in complaints)
    correct = Counter(e.top for e, p in complaints if e.top == p.top)
    per_class = {name: _score(correct[name], guessed[name], truth[name]) for name in classes}
    confusion: dict[str, dict[str, int]] = {name: {} for name in classes}
    for expected, predicted in complaints:
        row = confusion[expected.top]
        row[predicted.top] = row.get(predicted.top, 0) + 1
    severities: dict[str, dict[str, int]] = {}
    for expected, predicted in pairs:
        row = severities.setdefault(expected.severity or "-", {})
        row[predicted.severity or "-"] = row.get(predicted.severity or "-", 0) + 1
    macro = sum(score.f1 for score in per_class.values()) / len(per_class) if per_class else 0.0
    return Report(
        count=len(pairs),
        kind_accuracy=kind_hits / len(pairs),
        category_macro_f1=macro,
        severity_accuracy=severity_hits / len(pairs),
        per_class=per_class,
        confusion=confusion,
        per_flag=flag_scores(pairs),
        severity_confusion=dict(sorted(severities.items())),
    )
