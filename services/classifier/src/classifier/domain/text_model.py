"""A character n-gram TF-IDF linear model, stored as plain arrays (npz, no pickle)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from classifier.domain.policy import PolicyError

FloatArray = npt.NDArray[np.float64]
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def char_ngrams(text: str, *, low: int = 1, high: int = 3) -> list[str]:
    """Character n-grams of normalised text; digit runs collapse to 0 so amounts generalise."""
    text = _SPACE.sub("", _DIGITS.sub("0", text))
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def _empty_order() -> npt.NDArray[np.intp]:
    """An empty index array."""
    return np.zeros(0, dtype=np.intp)


@dataclass(frozen=True)
class Prediction:
    """Class probabilities and the n-grams that pushed the winner up."""

    label: str
    probability: float
    probabilities: dict[str, float]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class LinearTextModel:
    """Multinomial logistic regression over sublinear, l2-normalised TF-IDF char n-grams."""

    version: str
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: FloatArray
    coef: FloatArray
    intercept: FloatArray
    ngram_low: int = 1
    ngram_high: int = 3

    def features(self, text: str) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Indices and TF-IDF weights of the known n-grams in `text`."""
        vocabulary = self.vocabulary
        counts: dict[int, int] = {}
        for gram in char_ngrams(text, low=self.ngram_low, high=self.ngram_high):
            index = vocabulary.get(gram)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        if not counts:
            return indices, np.zeros(0)
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        weights = tf * self.idf[indices]
        return indices, weights / float(np.sqrt(weights @ weights))

    def predict(self, text: str, *, evidence: int = 5) -> Prediction:
        """Probabilities for every class of the normalised `text`."""
        indices, weights = self.features(text)
        columns = self.coef[:, indices]
        scores = columns @ weights + self.intercept
        scores = np.exp(scores - scores.max())
        probabilities = scores / scores.sum()
        best = int(probabilities.argmax())
        contributions = columns[best] * weights
        # Only the strongest few matter for the explanation: partial sort, then order those.
        strongest = min(len(contributions), evidence * 4)
        order = _empty_order()
        if strongest:
            order = np.argpartition(-contributions, strongest - 1)[:strongest]
            order = order[np.argsort(-contributions[order])]
        words = self._words(indices, order, contributions, evidence)
        return Prediction(
            label=self.classes[best],
            probability=float(probabilities[best]),
            probabilities=dict(zip(self.classes, probabilities.tolist(), strict=True)),
            evidence=words,
        )

    def _words(
        self,
        indices: npt.NDArray[np.intp],
        order: npt.NDArray[np.intp],
        contributions: FloatArray,
        top: int,
    ) -> tuple[str, ...]:
        """The strongest positive multi-character n-grams, as explanation."""
        names = self._names()
        words: list[str] = []
        for position in order:
            if contributions[position] <= 0 or len(words) >= top:
                break
            name = names[indices[position]]
            if len(name) > 1 and not any(name in w for w in words):
                words.append(name)
        return tuple(words)

    def _names(self) -> list[str]:
        """Index → n-gram, built once."""
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
        }

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written from `to_arrays`; never unpickles anything."""
        try:
            with np.load(path, allow_pickle=False) as data:
                vocabulary = [str(v) for v in data["vocabulary"]]
                model = cls(
                    version=str(data["version"][0]),
                    classes=tuple(str(c) for c in data["classes"]),
                    vocabulary={gram: i for i, gram in enumerate(vocabulary)},
                    idf=data["idf"].astype(np.float64),
                    coef=data["coef"].astype(np.float64),
                    intercept=data["intercept"].astype(np.float64),
                    ngram_low=int(data["ngram_range"][0]),
                    ngram_high=int(data["ngram_range"][1]),
                )
        except (OSError, KeyError, ValueError) as error:
            raise PolicyError(f"{path}: cannot read the text model: {error}") from error
        if model.coef.shape != (len(model.classes), len(vocabulary)):
            raise PolicyError(f"{path}: model arrays have inconsistent shapes")
        return model
