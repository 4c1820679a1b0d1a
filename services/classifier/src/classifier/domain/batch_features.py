"""A batch of texts as one sparse TF-IDF matrix: n-grams, counts and weights in a few array passes.

Per text the model used to make a dozen numpy calls on arrays of a hundred-odd elements, where
the call overhead was most of the cost. Here every n-gram of the batch is found by one gather
per length (`NgramTable.batch_indices`) and the features of every text are counted together,
keeping each text's first-occurrence order (unigrams, then bigrams, then keywords, as
`model_tokens` lists them), which the sums depend on to the last bit. A text's result does not
depend on the other texts of its batch: a batch of one is the single path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from classifier.domain.ngram_table import NgramTable

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class BatchFeatures(NamedTuple):
    """The known features of a batch, text after text (rows `starts[i]:starts[i + 1]`)."""

    ids: IntArray
    weights: FloatArray
    """TF-IDF weights, divided by each text's (floored) norm."""
    rows: FloatArray
    """Per feature: its idf, then its coefficient for each class."""
    starts: list[int]
    """Where each text's features begin, and one past the last."""


def batch_features(
    table: NgramTable,
    texts: Sequence[str],
    keywords: Sequence[list[int]],
    rows: FloatArray,
    norm_floor: float,
) -> BatchFeatures:
    """Features of `texts` (normalised), with `keywords[i]` the keyword features of text i."""
    if len(texts) == 1:
        ids, counts, starts = _one(table, texts[0], keywords[0])
    else:
        ids, counts, starts = _counted(table, texts, keywords, len(rows))
    gathered = rows[ids]  # one gather: each feature's idf and coefficients, together
    weights = (1.0 + np.log(counts.astype(np.float64))) * gathered[:, 0]
    for start, end in pairwise(starts):
        if end > start:
            part = weights[start:end]
            part /= max(math.sqrt(part @ part), norm_floor)
    return BatchFeatures(ids, weights, gathered, starts)


def _one(table: NgramTable, text: str, keywords: list[int]) -> tuple[IntArray, IntArray, list[int]]:
    """One text's distinct features in first-occurrence order and their counts.

    Counted in C by `Counter`, which keeps first-occurrence order: for a single text this is
    cheaper than the batch's sorts and gives the same answer.
    """
    counts = Counter(table.indices(text) + keywords)
    ids = np.fromiter(counts, dtype=np.int64, count=len(counts))
    return ids, np.fromiter(counts.values(), dtype=np.int64, count=len(counts)), [0, len(counts)]


def _counted(
    table: NgramTable, texts: Sequence[str], keywords: Sequence[list[int]], size: int
) -> tuple[IntArray, IntArray, list[int]]:
    """Every text's distinct features in first-occurrence order, their counts and text starts."""
    grams, gram_text = table.batch_indices(texts)
    keyword_ids = np.fromiter((i for found in keywords for i in found), dtype=np.int64)
    keyword_text = np.repeat(np.arange(len(texts)), [len(found) for found in keywords])
    ids = np.concatenate([grams, keyword_ids])
    text_of = np.concatenate([gram_text, keyword_text])
    # Stable: within a text, n-grams keep their order and come before the keywords.
    stream = np.argsort(text_of, kind="stable")
    keys = text_of[stream] * size + ids[stream]
    unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
    in_order = np.argsort(first, kind="stable")
    unique, counts = unique[in_order], counts[in_order]
    owner = unique // size
    starts: list[int] = np.searchsorted(owner, np.arange(len(texts) + 1)).tolist()
    return unique - owner * size, counts, starts


def class_scores(found: BatchFeatures, intercept: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Every text's class scores in one pass, and each feature's contribution to each class.

    The contributions are summed feature after feature within a text (`np.add.reduceat` along
    rows), so a text scores the same whatever else is in its batch.
    """
    contributions = found.weights[:, None] * found.rows[:, 1:]
    if len(found.starts) == 2:  # one text: the same row-by-row sum, without the bookkeeping
        one = np.add.reduceat(contributions, [0], axis=0)[0] if len(contributions) else 0.0
        return (one + intercept)[None, :], contributions
    scores = np.tile(intercept, (len(found.starts) - 1, 1))
    filled = [i for i, (a, b) in enumerate(pairwise(found.starts)) if b > a]
    if filled:
        sums = np.add.reduceat(contributions, [found.starts[i] for i in filled], axis=0)
        scores[filled] = sums + intercept
    return scores, contributions
