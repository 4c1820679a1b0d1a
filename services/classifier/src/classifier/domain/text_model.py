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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import add
from pathlib import Path

import numpy as np
import numpy.typing as npt

from classifier.domain.batch_features import BatchFeatures, batch_features, class_scores
from classifier.domain.evidence import LEXICON_TOKEN, evidence_words, ranked
from classifier.domain.lexicon import Lexicon, LexiconIndex, lexicon_hits
from classifier.domain.ngram_table import NgramTable, folded
from classifier.domain.policy import PolicyError

FloatArray = npt.NDArray[np.float64]


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
        found = self._batch_with_hits([text], [None], [])
        return found.ids.astype(np.intp), found.weights

    def predict(self, text: str, *, evidence: int = 5, chars: set[str] | None = None) -> Prediction:
        """Probabilities for every class of the normalised `text` (`chars`: its `set`, if known)."""
        return self.predict_many([text], evidence=evidence, chars=[chars])[0]

    def predict_many(
        self,
        texts: Sequence[str],
        *,
        evidence: int = 5,
        chars: Sequence[set[str] | None] | None = None,
    ) -> list[Prediction]:
        """`predict` of each normalised text, the batch's features and scores in one pass each.

        Ten-odd classes per text: past the array passes, the softmax and the evidence are plain
        Python on lists, cheaper than numpy calls on tiny arrays.
        """
        known = chars if chars is not None else [None] * len(texts)
        hits: list[dict[str, list[str]]] = []
        found = self._batch_with_hits(texts, known, hits)
        all_scores, contributions = class_scores(found, self.intercept)
        bests: list[int] = []
        results: list[tuple[int, list[float]]] = []
        for scores in all_scores.tolist():
            top = max(scores)
            exps = [math.exp(score - top) for score in scores]
            total = sum(exps)
            best = exps.index(max(exps))
            bests.append(best)
            results.append((best, [value / total for value in exps]))
        order, strength_list = ranked(found.starts, contributions, bests)
        names = self._names()
        ids = found.ids.tolist()
        predictions = []
        for at, (best, probabilities) in enumerate(results):
            start, end = found.starts[at], found.starts[at + 1]
            strongest = order[start : min(end, start + evidence * 4)]
            words = evidence_words(names, ids, hits[at], strongest, strength_list, evidence)
            predictions.append(
                Prediction(
                    label=self.classes[best],
                    probability=probabilities[best],
                    probabilities=dict(zip(self.classes, probabilities, strict=True)),
                    evidence=words,
                )
            )
        return predictions

    def _batch_with_hits(
        self,
        texts: Sequence[str],
        chars: Sequence[set[str] | None],
        hits: list[dict[str, list[str]]],
    ) -> BatchFeatures:
        """The batch's features; each text's keyword hits appended to `hits`."""
        index, keyword_index = self._index(), self._keyword_index()
        keywords: list[list[int]] = []
        for text, known in zip(texts, chars, strict=True):
            found = index.hits(text, known)
            hits.append(found)
            ids: list[int] = []
            for code, words in found.items():
                at = keyword_index.get(code)
                if at is not None:
                    ids += [at] * len(words)
            keywords.append(ids)
        return batch_features(self._table(), texts, keywords, self._rows(), self.norm_floor)

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
