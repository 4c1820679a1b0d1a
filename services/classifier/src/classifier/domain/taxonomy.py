"""Category paths from the pack's taxonomy keywords."""

from __future__ import annotations

from classifier.domain.policy import Category, ClassifierPolicy
from classifier.domain.text_model import Prediction

# Confidence given to a keyword-only decision per distinct keyword found, capped below certainty.
_KEYWORD_STEP = 0.3
_KEYWORD_CAP = 0.9
_NO_EVIDENCE = 0.2


def keyword_hits(keywords: tuple[str, ...], text: str) -> list[str]:
    """The keywords present in normalised `text`."""
    return [word for word in keywords if word in text]


def category_path(
    category: Category, text: str, chars: set[str] | None = None
) -> tuple[str, list[str]]:
    """`code/subcode` for the subcategory with most keyword hits, or the bare code.

    Ties go to the longer matched words (断网 says more than 断), then to pack order. `chars`,
    when given, is `set(text)` already computed by the caller.
    """
    found = category.sub_index.hits(text, chars)
    best_code, best_hits = "", list[str]()
    for sub in category.subcategories:
        hits = found.get(sub.code, [])
        if _weight(hits) > _weight(best_hits):
            best_code, best_hits = sub.code, hits
    if not best_hits:
        return category.code, []
    return f"{category.code}/{best_code}", best_hits


def _weight(hits: list[str]) -> tuple[int, int]:
    """How strongly keyword hits point to a subcategory: their number, then their length."""
    return len(hits), sum(len(word) for word in hits)


def keyword_prediction(policy: ClassifierPolicy, text: str) -> Prediction:
    """A category decision from taxonomy keywords alone, for packs that ship no model."""
    counts: dict[str, list[str]] = {}
    for category in policy.categories:
        words = list(category.keywords)
        for sub in category.subcategories:
            words.extend(sub.keywords)
        counts[category.code] = keyword_hits(tuple(dict.fromkeys(words)), text)
    total = sum(len(hits) for hits in counts.values())
    if total == 0:
        fallback = policy.fallback_category
        probabilities = dict.fromkeys(counts, 0.0) | {fallback: _NO_EVIDENCE}
        return Prediction(fallback, _NO_EVIDENCE, probabilities, ())
    best = max(counts, key=lambda code: len(counts[code]))
    hits = counts[best]
    strength = min(_KEYWORD_CAP, _KEYWORD_STEP * len(hits)) * len(hits) / total
    probabilities = {code: len(found) / total for code, found in counts.items()}
    return Prediction(best, max(strength, _NO_EVIDENCE), probabilities, tuple(hits))
