"""Fitting the category model and reading the labelled examples the project ships.

Offline only (`make train`, `make eval`, tests): the running service never imports this module,
so scikit-learn stays out of its start-up path.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from classifier.domain.lexicon import Lexicon
from classifier.domain.normalise import normalise
from classifier.domain.policy import ClassifierPolicy
from classifier.domain.text_model import FloatArray, LinearTextModel, model_tokens
from contracts import Channel, CustomerTier, Kind

HELD_OUT = "heldout"
"""Sub-folder of the data folder with the own held-out set: never read for training."""

_TEMPERATURES = np.geomspace(0.1, 3.0, 120)


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
    """Hyper-parameters; part of the model version so a change is visible.

    Character uni- and bigrams (bigrams are close to Chinese words and generalise better than
    trigrams on a few hundred examples per class) plus taxonomy keyword tokens. Feature vectors
    are l2-normalised, but never scaled up past the `norm_floor_quantile` of the training
    vectors' norms, so a text with little evidence ("投诉", "嗯。") keeps small scores instead of
    being blown up to full confidence. The temperature is fitted on out-of-fold scores from
    `calibration_folds` folds.
    """

    c: float = 16.0
    ngram_low: int = 1
    ngram_high: int = 2
    min_df: int = 1
    norm_floor_quantile: float = 0.05
    calibration_folds: int = 5
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
    """Every `*.jsonl` and `*.tsv` file directly in `folder`, in name order (reproducible).

    Sub-folders are not read: the held-out set lives in `folder/heldout` for that reason.
    """
    examples: list[Example] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix == ".jsonl":
            examples.extend(read_jsonl(path))
        elif path.suffix == ".tsv":
            examples.extend(read_tsv(path))
    return examples


def read_held_out(folder: Path) -> list[Example]:
    """The own held-out examples under `folder/heldout` (for scoring only, never training)."""
    return read_examples(folder / HELD_OUT) if (folder / HELD_OUT).is_dir() else []


def lexicon_of(policy: ClassifierPolicy) -> dict[str, tuple[str, ...]]:
    """Each category's taxonomy keywords (its own and its subcategories'), without repeats."""
    return {
        category.code: tuple(
            dict.fromkeys(
                [*category.keywords, *(w for sub in category.subcategories for w in sub.keywords)]
            )
        )
        for category in policy.categories
    }


def _analyzer(settings: TrainingSettings, lexicon: Lexicon) -> Callable[[str], list[str]]:
    """The same tokens `LinearTextModel` computes at run time."""

    def analyse(text: str) -> list[str]:
        tokens, _ = model_tokens(
            normalise(text), low=settings.ngram_low, high=settings.ngram_high, lexicon=lexicon
        )
        return tokens

    return analyse


@dataclass(frozen=True)
class _Fitted:
    """A fitted vectorizer, its norm floor and the logistic regression on top."""

    vectorizer: TfidfVectorizer
    norm_floor: float
    classifier: LogisticRegression

    def matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Feature rows of `texts`, normalised the way `LinearTextModel` does."""
        return _floored(self.vectorizer.transform(texts), self.norm_floor)[0]

    def logits(self, texts: Sequence[str]) -> FloatArray:
        """One score column per class (binary models give one column; split it symmetrically)."""
        scores = np.asarray(self.classifier.decision_function(self.matrix(texts)), np.float64)
        if scores.ndim == 1:
            return np.column_stack([-scores / 2, scores / 2])
        return scores


def _floored(matrix: sparse.csr_matrix, floor: float) -> tuple[sparse.csr_matrix, FloatArray]:
    """Rows divided by max(their l2 norm, `floor`), and the norms before that."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
    scale = 1.0 / np.maximum(norms, max(floor, np.finfo(np.float64).tiny))
    return sparse.csr_matrix(sparse.diags(scale) @ matrix), norms


def _fit(
    texts: Sequence[str], labels: Sequence[str], settings: TrainingSettings, lexicon: Lexicon
) -> _Fitted:
    """TF-IDF with a norm floor + multinomial logistic regression on `texts`; deterministic."""
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer(settings, lexicon),
        sublinear_tf=True,
        norm=None,
        min_df=settings.min_df,
        dtype=np.float64,
    )
    raw = vectorizer.fit_transform(texts)
    norm_floor = float(np.quantile(_floored(raw, 0.0)[1], settings.norm_floor_quantile))
    classifier = LogisticRegression(
        C=settings.c, max_iter=3000, class_weight="balanced", random_state=settings.seed
    )
    classifier.fit(_floored(raw, norm_floor)[0], labels)
    return _Fitted(vectorizer, norm_floor, classifier)


def _temperature(
    texts: Sequence[str], labels: Sequence[str], settings: TrainingSettings, lexicon: Lexicon
) -> float:
    """The softmax temperature that minimises log loss on out-of-fold scores.

    A regularised linear model on a few hundred short texts is under-confident; dividing its
    scores by this temperature makes `confidence` mean roughly "how often this is right", so
    the pack's `min_confidence` threshold for `needs_review` keeps one meaning across models.
    """
    smallest = min(Counter(labels).values())
    folds = min(settings.calibration_folds, smallest)
    if folds < 2:
        return 1.0
    classes = sorted(set(labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=settings.seed)
    scores = np.zeros((len(texts), len(classes)))
    for train_index, test_index in splitter.split(texts, labels):
        fitted = _fit(
            [texts[i] for i in train_index], [labels[i] for i in train_index], settings, lexicon
        )
        fold = fitted.logits([texts[i] for i in test_index])
        columns = [classes.index(str(c)) for c in fitted.classifier.classes_]
        scores[np.ix_(test_index, columns)] = fold
    truth = np.array([classes.index(label) for label in labels], dtype=np.intp)
    losses = [_log_loss(scores / t, truth) for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _log_loss(scores: FloatArray, truth: npt.NDArray[np.intp]) -> float:
    """Mean negative log-likelihood of the true classes under softmax(`scores`)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_norm - shifted[np.arange(len(truth)), truth]))


def model_version(
    examples: Sequence[Example],
    *,
    name: str,
    lexicon: Lexicon | None = None,
    settings: TrainingSettings = TrainingSettings(),
) -> str:
    """The version `train_model` gives: `name` plus a digest of data, lexicon and settings."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.label}\t{example.text}\n".encode())
    for code, words in sorted((lexicon or {}).items()):
        digest.update(f"{code}\t{'|'.join(words)}\n".encode())
    digest.update(repr(settings).encode())
    return f"{name}-{digest.hexdigest()[:12]}"


def train_model(
    examples: Sequence[Example],
    *,
    name: str,
    lexicon: Lexicon | None = None,
    settings: TrainingSettings = TrainingSettings(),
) -> LinearTextModel:
    """Fit the model, calibrate its temperature; deterministic for the same inputs."""
    lexicon = dict(lexicon or {})
    texts = [example.text for example in examples]
    labels = [example.label for example in examples]
    fitted = _fit(texts, labels, settings, lexicon)
    classifier = fitted.classifier
    temperature = _temperature(texts, labels, settings, lexicon)
    coef = classifier.coef_
    intercept = classifier.intercept_
    if len(classifier.classes_) == 2:  # binary LR stores one row; the model wants one per class
        coef = np.vstack([-coef[0], coef[0]]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    vocabulary = {str(gram): int(i) for gram, i in fitted.vectorizer.vocabulary_.items()}
    return LinearTextModel(
        version=model_version(examples, name=name, lexicon=lexicon, settings=settings),
        classes=tuple(str(c) for c in classifier.classes_),
        vocabulary=vocabulary,
        idf=np.asarray(fitted.vectorizer.idf_, dtype=np.float64),
        coef=np.asarray(coef, dtype=np.float64) / temperature,
        intercept=np.asarray(intercept, dtype=np.float64) / temperature,
        ngram_low=settings.ngram_low,
        ngram_high=settings.ngram_high,
        norm_floor=fitted.norm_floor,
        lexicon={code: tuple(words) for code, words in lexicon.items()},
    )
