"""Fitting the category model and reading the labelled examples the project ships."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifier.domain.normalise import normalise
from classifier.domain.text_model import LinearTextModel, char_ngrams
from contracts import Channel, CustomerTier, Kind


@dataclass(frozen=True)
class Example:
    """A labelled message: the expected kind, category, severity and flags."""

    id: str
    channel: Channel
    tier: CustomerTier
    text: str
    kind: Kind
    category: str | None
    severity: str | None
    flags: tuple[str, ...]

    @property
    def label(self) -> str:
        """The model's class: the top category for complaints, else the kind."""
        return self.category if self.kind is Kind.COMPLAINT and self.category else self.kind.value


@dataclass(frozen=True)
class TrainingSettings:
    """Hyper-parameters; part of the model version so a change is visible."""

    c: float = 16.0
    ngram_low: int = 1
    ngram_high: int = 3
    min_df: int = 1
    seed: int = 20261124


def read_jsonl(path: Path) -> list[Example]:
    """Examples in the fixture format: id, channel, customer_tier, text, expected{…}."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        expected = row["expected"]
        examples.append(
            Example(
                id=row["id"],
                channel=Channel(row["channel"]),
                tier=CustomerTier(row.get("customer_tier", "standard")),
                text=row["text"],
                kind=Kind(expected["kind"]),
                category=expected.get("category"),
                severity=expected.get("severity"),
                flags=tuple(expected.get("flags", [])),
            )
        )
    return examples


def read_tsv(path: Path) -> list[Example]:
    """Hand-written examples: `label | severity | flags | channel | tier | text` per line."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split(" | ", 5)]
        if len(parts) != 6:
            raise ValueError(f"{path}:{number}: expected 6 fields separated by ' | '")
        label, severity, flags, channel, tier, text = parts
        kind = Kind(label) if label in {k.value for k in Kind} else Kind.COMPLAINT
        examples.append(
            Example(
                id=f"{path.stem}-{number:04d}",
                channel=Channel(channel),
                tier=CustomerTier(tier),
                text=text,
                kind=kind,
                category=label if kind is Kind.COMPLAINT else None,
                severity=None if severity == "-" else severity,
                flags=() if flags == "-" else tuple(f.strip() for f in flags.split(",")),
            )
        )
    return examples


def read_examples(folder: Path) -> list[Example]:
    """Every `*.jsonl` and `*.tsv` file in `folder`, in name order (reproducible)."""
    examples: list[Example] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".jsonl":
            examples.extend(read_jsonl(path))
        elif path.suffix == ".tsv":
            examples.extend(read_tsv(path))
    return examples


def _analyzer(settings: TrainingSettings) -> object:
    """The same n-grams `LinearTextModel` computes at run time."""

    def analyse(text: str) -> list[str]:
        return char_ngrams(normalise(text), low=settings.ngram_low, high=settings.ngram_high)

    return analyse


def train_model(
    examples: Sequence[Example], *, name: str, settings: TrainingSettings = TrainingSettings()
) -> LinearTextModel:
    """Fit TF-IDF + multinomial logistic regression; deterministic for the same inputs."""
    texts = [example.text for example in examples]
    labels = [example.label for example in examples]
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer(settings),
        sublinear_tf=True,
        min_df=settings.min_df,
        dtype=np.float64,
    )
    matrix = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(
        C=settings.c, max_iter=3000, class_weight="balanced", random_state=settings.seed
    )
    classifier.fit(matrix, labels)
    vocabulary = {str(gram): int(index) for gram, index in vectorizer.vocabulary_.items()}
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    digest.update(repr(settings).encode())
    coef = classifier.coef_
    intercept = classifier.intercept_
    if len(classifier.classes_) == 2:  # binary LR stores one row; the model wants one per class
        coef = np.vstack([-coef[0], coef[0]]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return LinearTextModel(
        version=f"{name}-{digest.hexdigest()[:12]}",
        classes=tuple(str(c) for c in classifier.classes_),
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.asarray(coef, dtype=np.float64),
        intercept=np.asarray(intercept, dtype=np.float64),
        ngram_low=settings.ngram_low,
        ngram_high=settings.ngram_high,
    )
