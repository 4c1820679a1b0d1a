"""A batch decides exactly as one message at a time: `classify_many` and `predict_many` (issue 16).

Inputs: the dev fixture, the training and held-out examples and the real-voice set, each on its
own channel and on `forum` (the fast-path tests' texts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from classifier.domain import Classifier, ClassifierInput, normalise
from tests._builders.classifier import stored_messages

TEXTS = stored_messages()
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ITEMS = [ClassifierInput(text=text, channel=ch, customer_tier=tier) for text, ch, tier in TEXTS]
WHEN = [NOW + timedelta(seconds=i) for i in range(len(ITEMS))]


def test_the_inputs_cover_the_dev_and_real_voice_sets() -> None:
    assert len(ITEMS) > 2_000
    assert any("\n" in text or len(text) > 200 for text, _, _ in TEXTS)


@pytest.mark.parametrize("size", [1, 7, 500, len(ITEMS)])
def test_classify_many_equals_classify_one_by_one(telecom: Classifier, size: int) -> None:
    one_by_one = [telecom.classify(i, received_at=w) for i, w in zip(ITEMS, WHEN, strict=True)]
    batched = [
        decision
        for start in range(0, len(ITEMS), size)
        for decision in telecom.classify_many(
            ITEMS[start : start + size], received_at=WHEN[start : start + size]
        )
    ]
    assert batched == one_by_one
    assert len({d.category for d in batched}) > 10  # the set exercises the taxonomy


def test_predict_many_equals_predict_to_the_last_bit(telecom: Classifier) -> None:
    model = telecom.model
    assert model is not None
    texts = [normalise(text) for text, _, _ in TEXTS[:600]] + ["", "…", "0", "\x00话费\x00"]
    batched = model.predict_many(texts)
    for text, many in zip(texts, batched, strict=True):
        one = model.predict(text)
        assert many.probabilities == one.probabilities  # floats compared exactly
        assert (many.label, many.evidence) == (one.label, one.evidence)


def test_a_text_scores_the_same_whatever_its_batch(telecom: Classifier) -> None:
    model = telecom.model
    assert model is not None
    texts = [normalise(text) for text, _, _ in TEXTS[:40]]
    alone = model.predict_many(texts[5:6])[0]
    among = model.predict_many(texts)[5]
    reversed_batch = model.predict_many(texts[::-1])[len(texts) - 6]
    assert alone == among == reversed_batch


def test_classify_many_rejects_mismatched_lengths(telecom: Classifier) -> None:
    with pytest.raises(ValueError, match="same length"):
        telecom.classify_many(ITEMS[:2], received_at=WHEN[:1])
