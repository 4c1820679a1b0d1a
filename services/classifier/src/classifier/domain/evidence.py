"""A prediction's evidence: each text's features ranked by strength, and the words they name."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
LEXICON_TOKEN = "kw "  # noqa: S105 (a feature-name prefix, not a secret)
"""Prefix of lexicon tokens; the space keeps them apart from n-grams (which have no spaces)."""


def ranked(
    starts: list[int], contributions: FloatArray, bests: list[int]
) -> tuple[list[int], list[float]]:
    """Feature positions, strongest first within each text, and each feature's strength
    (its contribution to its text's winning class). Both sorts are stable, so feature order
    among ties stays.
    """
    if len(bests) == 1:
        chosen = contributions[:, bests[0]]
        return np.argsort(-chosen, kind="stable").tolist(), chosen.tolist()
    owner = np.repeat(np.arange(len(bests)), np.diff(starts))
    chosen = contributions[np.arange(len(owner)), np.array(bests, dtype=np.intp)[owner]]
    order: list[int] = np.lexsort((-chosen, owner)).tolist()
    return order, chosen.tolist()


def evidence_words(  # noqa: PLR0917 (the prediction loop's helper, positional for speed)
    names: list[str],
    ids: list[int],
    hits: dict[str, list[str]],
    ranked: list[int],
    strengths: list[float],
    top: int,
) -> tuple[str, ...]:
    """The strongest positive features as words: keywords found, or multi-character n-grams.

    `ranked` holds feature positions strongest first, `strengths` every feature's contribution.
    N-grams across punctuation (",光") explain nothing to a reader and are left out.
    """
    words: list[str] = []
    for position in ranked:
        if strengths[position] <= 0 or len(words) >= top:
            break
        name = names[ids[position]]
        if name.startswith(LEXICON_TOKEN):
            candidates = hits.get(name[len(LEXICON_TOKEN) :], [])
        else:
            candidates = [name] if len(name) > 1 and name.isalnum() else []
        for word in candidates:
            if len(words) < top and not any(word in w or w in word for w in words):
                words.append(word)
    return tuple(words)
