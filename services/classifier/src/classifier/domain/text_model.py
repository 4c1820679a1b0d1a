"""A TF-IDF linear model over character n-grams and taxonomy keywords, stored as plain arrays.

Two kinds of features, computed the same way at training and at run time by `model_tokens`:

- character n-grams of the normalised text (digit runs collapse to 0 so amounts generalise);
- one *lexicon token* per taxonomy keyword found, named after its category (`kw billing`). The
  keywords are the pack's curated words (扣费, 携号转网, 彩铃 …); as features they give the model a
  prior that carries over to wording it never saw, while the weights stay learned from data.

The lexicon ships inside the model file, so a model always sees the keywords it was trained with.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import add
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from classifier.domain.lexicon import Lexicon, LexiconIndex, lexicon_hits
from classifier.domain.ngram_table import NgramTable, folded
from classifier.domain.policy import PolicyError

FloatArray = npt.NDArray[np.float64]
LEXICON_TOKEN = "kw "  # noqa: S105 (a feature-name prefix, not a secret)
"""Prefix of lexicon tokens; the space keeps them apart from n-grams (which have no spaces)."""


def char_ngrams(text: str, *, low: int = 1, high: int = 3) -> list[str]:
    """Character n-grams of normalised text; digit runs collapse to 0 so amounts generalise."""
    text = folded(text)
    grams: list[str] = []
    longer: list[str] = list(text)  # the n-grams of the current length, built by appending
    for n in range(1, high + 1):
        if n > 1:
            longer = list(map(add, longer, text[n - 1 :]))
        if n >= low:
            grams.extend(longer)
    return grams


def model_tokens(
    text: str,
    *,
    low: int,
    high: int,
    lexicon: Lexicon,
    hits: dict[str, list[str]] | None = None,
) -> tuple[list[str], dict[str, list[str]]]:
    """Every feature token of normalised `text`, and the keyword hits behind the lexicon tokens.

    `hits`, when given, are the lexicon's hits already found (by a `LexiconIndex`).
    """
    if hits is None:
        hits = lexicon_hits(lexicon, text)
    tokens = char_ngrams(text, low=low, high=high)
    for code, found in hits.items():
        tokens.extend([LEXICON_TOKEN + code] * len(found))
    return tokens, hits


@dataclass(frozen=True)
class Prediction:
    """Class probabilities and the words that pushed the winner up."""

    label: str
    probability: float
    probabilities: dict[str, float]
    evidence: tuple[str, ...]


class _Features(NamedTuple):
    """Known features of one text: their indices, TF-IDF weights and rows, and keyword hits."""

    ids: list[int]
    weights: FloatArray
    rows: FloatArray
    """Per feature: its idf, then its coefficient for each class (see `_rows`)."""
    hits: dict[str, list[str]]


@dataclass(frozen=True)
class LinearTextModel:
    """Multinomial logistic regression over sublinear, l2-normalised TF-IDF features.

    Vectors are divided by their norm, but by no less than `norm_floor`: a text with very little
    known evidence keeps a short vector and so a low confidence. `coef` and `intercept` are
    already divided by the temperature fitted at training time, so the softmax gives
    calibrated probabilities without any extra step here.
    """

    version: str
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: FloatArray
    coef: FloatArray
    intercept: FloatArray
    ngram_low: int = 1
    ngram_high: int = 3
    norm_floor: float = 0.0
    lexicon: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def features(self, text: str) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Indices and TF-IDF weights of the known features of normalised `text`."""
        found = self._features(text)
        return np.array(found.ids, dtype=np.intp), found.weights

    def _features(self, text: str, chars: set[str] | None = None) -> _Features:
        hits = self._index().hits(text, chars)
        found = self._table().indices(text)
        keyword_index = self._keyword_index()
        for code, words in hits.items():
            index = keyword_index.get(code)
            if index is not None:
                found += [index] * len(words)
        # Counted in C; Counter keeps first-occurrence order (n-grams, then keywords, as
        # `model_tokens` lists them), which the sums below depend on to the last bit.
        counts = Counter(found)
        ids = list(counts)
        rows = self._rows()[ids]  # one gather: each feature's idf and coefficients, together
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(ids)))
        weights = tf * rows[:, 0]
        norm = max(math.sqrt(weights @ weights), self.norm_floor) if ids else 1.0
        return _Features(ids, weights / norm, rows, hits)

    def predict(self, text: str, *, evidence: int = 5, chars: set[str] | None = None) -> Prediction:
        """Probabilities for every class of the normalised `text` (`chars`: its `set`, if known).

        Ten-odd classes and a hundred-odd features: past the two array products, plain Python
        on lists is cheaper than another dozen numpy calls on tiny arrays.
        """
        found = self._features(text, chars)
        scores = (found.weights @ found.rows[:, 1:] + self.intercept).tolist()
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        probabilities = [value / total for value in exps]
        best = exps.index(max(exps))
        strengths = (found.rows[:, best + 1] * found.weights).tolist()
        # The strongest few, strongest first; a stable sort keeps feature order among ties.
        order = sorted(range(len(strengths)), key=strengths.__getitem__, reverse=True)
        words = self._words(found, order[: evidence * 4], strengths, evidence)
        return Prediction(
            label=self.classes[best],
            probability=probabilities[best],
            probabilities=dict(zip(self.classes, probabilities, strict=True)),
            evidence=words,
        )

    def _words(
        self, found: _Features, order: list[int], strengths: list[float], top: int
    ) -> tuple[str, ...]:
        """The strongest positive features as words: keywords found, or multi-character n-grams.

        `order` holds feature positions strongest first, `strengths` every feature's
        contribution. N-grams across punctuation (",光") explain nothing to a reader and are
        left out.
        """
        names = self._names()
        words: list[str] = []
        for position in order:
            if strengths[position] <= 0 or len(words) >= top:
                break
            name = names[found.ids[position]]
            if name.startswith(LEXICON_TOKEN):
                candidates = found.hits.get(name[len(LEXICON_TOKEN) :], [])
            else:
                candidates = [name] if len(name) > 1 and name.isalnum() else []
            for word in candidates:
                if len(words) < top and not any(word in w or w in word for w in words):
                    words.append(word)
        return tuple(words)

    def _index(self) -> LexiconIndex:
        """The lexicon indexed by first character, built once."""
        cached: LexiconIndex | None = self.__dict__.get("_index_cache")
        if cached is None:
            cached = LexiconIndex(self.lexicon)
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def _table(self) -> NgramTable:
        """The vocabulary's n-grams as sorted integer keys, built once."""
        cached: NgramTable | None = self.__dict__.get("_table_cache")
        if cached is None:
            cached = NgramTable(self.vocabulary, low=self.ngram_low, high=self.ngram_high)
            object.__setattr__(self, "_table_cache", cached)
        return cached

    def _rows(self) -> FloatArray:
        """Per feature one row: its idf, then its coefficient for each class; built once.

        One gather then fetches all a feature needs. The coefficients go through float32, as
        the model file stores them, so a model decides the same before and after a save.
        """
        cached: FloatArray | None = self.__dict__.get("_rows_cache")
        if cached is None:
            cached = np.empty((len(self.vocabulary), len(self.classes) + 1), dtype=np.float64)
            cached[:, 0] = self.idf
            cached[:, 1:] = self.coef.T.astype(np.float32)
            object.__setattr__(self, "_rows_cache", cached)
        return cached

    def _keyword_index(self) -> dict[str, int]:
        """Category code → index of its lexicon token in the vocabulary, built once."""
        cached: dict[str, int] | None = self.__dict__.get("_keyword_cache")
        if cached is None:
            cached = {
                code: self.vocabulary[LEXICON_TOKEN + code]
                for code in self.lexicon
                if LEXICON_TOKEN + code in self.vocabulary
            }
            object.__setattr__(self, "_keyword_cache", cached)
        return cached

    def _names(self) -> list[str]:
        """Index → feature name, built once."""
        cached: list[str] | None = self.__dict__.get("_names_cache")
        if cached is None:
            cached = [""] * len(self.vocabulary)
            for gram, index in self.vocabulary.items():
                cached[index] = gram
            object.__setattr__(self, "_names_cache", cached)
        return cached

    def to_arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays `load` reads back (saved with numpy.savez_compressed)."""
        names = self._names()
        return {
            "version": np.array([self.version]),
            "classes": np.array(self.classes),
            "vocabulary": np.array(names),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
            "ngram_range": np.array([self.ngram_low, self.ngram_high]),
            "norm_floor": np.array([self.norm_floor]),
            "lexicon": np.array(
                [f"{code}\t{word}" for code, words in self.lexicon.items() for word in words],
                dtype=str,
            ),
        }

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written from `to_arrays`; never unpickles anything."""
        try:
            with np.load(path, allow_pickle=False) as data:
                vocabulary = [str(v) for v in data["vocabulary"]]
                lexicon_rows = [str(v) for v in data["lexicon"]] if "lexicon" in data.files else []
                model = cls(
                    version=str(data["version"][0]),
                    classes=tuple(str(c) for c in data["classes"]),
                    vocabulary={gram: i for i, gram in enumerate(vocabulary)},
                    idf=data["idf"].astype(np.float64),
                    coef=data["coef"].astype(np.float64),
                    intercept=data["intercept"].astype(np.float64),
                    ngram_low=int(data["ngram_range"][0]),
                    ngram_high=int(data["ngram_range"][1]),
                    norm_floor=_scalar(data, "norm_floor"),
                    lexicon=_lexicon(lexicon_rows),
                )
        except (OSError, KeyError, ValueError) as error:
            raise PolicyError(f"{path}: cannot read the text model: {error}") from error
        if model.coef.shape != (len(model.classes), len(vocabulary)):
            raise PolicyError(f"{path}: model arrays have inconsistent shapes")
        return model


def _scalar(data: Mapping[str, npt.NDArray[np.generic]], key: str) -> float:
    """A one-element float array of the model file, 0.0 when the file predates it."""
    return float(data[key][0]) if key in data else 0.0


def _lexicon(rows: list[str]) -> dict[str, tuple[str, ...]]:
    """`code<TAB>word` rows back into a lexicon, in stored order."""
    lexicon: dict[str, list[str]] = {}
    for row in rows:
        code, tab, word = row.partition("\t")
        if not tab or not code or not word:
            raise ValueError(f"bad lexicon row {row!r}")
        lexicon.setdefault(code, []).append(word)
    return {code: tuple(words) for code, words in lexicon.items()}
