"""The text model: run-time features match training, model files round-trip, keyword evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from classifier.domain import Classifier, ClassifierInput, normalise
from classifier.domain.text_model import FloatArray, LinearTextModel, model_tokens
from classifier.training import Example, TrainingSettings, _fit, train_model
from contracts import Channel, CustomerTier, Kind

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
LEXICON = {"billing": ("扣费", "话费"), "network": ("信号", "断网")}
QUICK = TrainingSettings(calibration_folds=0)
TEXTS = {
    "billing": ["话费被多扣了二十元", "每月乱扣费，退钱", "账单扣费不对", "話費扣了兩次"],
    "network": ["家里没有信号", "宽带又断网了", "信号很差打不通", "小区断网一整天"],
}
EXAMPLES = [
    Example(
        f"{label}-{i}", Channel.APP, CustomerTier.STANDARD, text, Kind.COMPLAINT, label, "P4", ()
    )
    for label, texts in TEXTS.items()
    for i, text in enumerate(texts)
]


@pytest.fixture(scope="module")
def model() -> LinearTextModel:
    return train_model(EXAMPLES, name="toy", lexicon=LEXICON, settings=QUICK)


def softmax(scores: FloatArray) -> list[float]:
    shifted = np.exp(scores - scores.max())
    return [float(x) for x in shifted / shifted.sum()]


@pytest.mark.parametrize("text", ["话费扣费有问题", "信号", "嗯", "宽带断网，话费也乱扣"])
def test_run_time_probabilities_equal_the_training_pipeline(
    model: LinearTextModel, text: str
) -> None:
    fitted = _fit([e.text for e in EXAMPLES], [e.label for e in EXAMPLES], QUICK, LEXICON)
    expected = softmax(fitted.logits([text])[0])
    got = model.predict(normalise(text)).probabilities
    assert [got[str(c)] for c in fitted.classifier.classes_] == pytest.approx(expected)


def test_keywords_become_one_token_per_hit_that_no_ngram_can_spell() -> None:
    tokens, hits = model_tokens("话费扣费", low=1, high=2, lexicon=LEXICON)
    assert hits == {"billing": ["扣费", "话费"]}
    assert tokens.count("kw billing") == 2
    assert not [t for t in tokens if " " in t and not t.startswith("kw ")]


def test_a_model_file_round_trips_with_its_lexicon_and_floor(
    model: LinearTextModel, tmp_path: Path
) -> None:
    path = tmp_path / "m.npz"
    np.savez_compressed(path, allow_pickle=False, **model.to_arrays())
    back = LinearTextModel.load(path)
    assert back.lexicon == LEXICON
    assert back.norm_floor == pytest.approx(model.norm_floor)
    text = normalise("话费被乱扣")
    assert back.predict(text).probabilities == pytest.approx(model.predict(text).probabilities)


def test_a_model_file_from_before_lexicons_still_loads(
    model: LinearTextModel, tmp_path: Path
) -> None:
    arrays = model.to_arrays()
    del arrays["lexicon"], arrays["norm_floor"]
    path = tmp_path / "old.npz"
    np.savez_compressed(path, allow_pickle=False, **arrays)
    old = LinearTextModel.load(path)
    assert (old.lexicon, old.norm_floor) == ({}, 0.0)


def test_evidence_names_the_keywords_not_the_feature(model: LinearTextModel) -> None:
    evidence = model.predict(normalise("宽带断网")).evidence
    assert "断网" in evidence
    assert not any(word.startswith("kw ") for word in evidence)


def test_little_evidence_means_low_confidence_with_the_shipped_model() -> None:
    telecom = Classifier.load(policy_dir=POLICIES, pack="telecom")
    vague, clear = (
        telecom.classify(ClassifierInput(text, Channel.HOTLINE), received_at=NOW)
        for text in ("投诉", "话费又乱扣了，退钱！")
    )
    assert vague.has_flag("needs_review")
    assert clear.confidence > 0.9
    assert not clear.has_flag("needs_review")


def test_the_longer_keyword_decides_a_tied_subcategory() -> None:
    telecom = Classifier.load(policy_dir=POLICIES, pack="telecom")
    decision = telecom.classify(ClassifierInput("宽带断网", Channel.SMS), received_at=NOW)
    assert decision.category == "network/broadband_outage"
