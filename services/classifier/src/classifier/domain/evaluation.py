"""Scores of classifier decisions against expected labels: accuracy, macro-F1, confusion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

NOT_A_COMPLAINT = "(none)"


@dataclass(frozen=True)
class Labels:
    """Kind, top-level category and severity of one message (expected or predicted)."""

    kind: str
    category: str | None
    severity: str | None

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
        return out


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
    per_class = {}
    for name in classes:
        precision = correct[name] / guessed[name] if guessed[name] else 0.0
        recall = correct[name] / truth[name] if truth[name] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = ClassScore(precision, recall, f1, truth[name])
    confusion: dict[str, dict[str, int]] = {name: {} for name in classes}
    for expected, predicted in complaints:
        row = confusion[expected.top]
        row[predicted.top] = row.get(predicted.top, 0) + 1
    macro = sum(score.f1 for score in per_class.values()) / len(per_class) if per_class else 0.0
    return Report(
        count=len(pairs),
        kind_accuracy=kind_hits / len(pairs),
        category_macro_f1=macro,
        severity_accuracy=severity_hits / len(pairs),
        per_class=per_class,
        confusion=confusion,
    )
