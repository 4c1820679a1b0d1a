"""Accuracy on complaints the model never saw, so a change that hurts generalisation fails."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.domain import Classifier, ClassifierInput, normalise
from classifier.domain.evaluation import Labels, Report, evaluate
from classifier.domain.policy_loader import load_policy
from classifier.training import (
    Example,
    TrainingSettings,
    lexicon_of,
    model_version,
    read_examples,
    read_held_out,
    train_model,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "classifier"
POLICIES = ROOT / "policies"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

# The targets; `make eval` measures well above them (see docs/classifier.md), so noise
# passes and a real regression does not.
KIND_FLOOR = 0.95
CATEGORY_F1_FLOOR = 0.90
SEVERITY_FLOOR = 0.90


@pytest.fixture(scope="module")
def training() -> list[Example]:
    return read_examples(DATA)


def report(classifier: Classifier, examples: list[Example]) -> Report:
    items = [ClassifierInput(e.text, e.channel, e.tier) for e in examples]
    decisions = classifier.classify_many(items, received_at=[NOW] * len(items))
    return evaluate(
        [
            (
                Labels(e.kind.value, e.category, e.severity),
                Labels(d.kind.value, d.category, d.severity.value if d.severity else None),
            )
            for e, d in zip(examples, decisions, strict=True)
        ]
    )


def assert_meets_targets(scores: Report) -> None:
    assert scores.kind_accuracy >= KIND_FLOOR
    assert scores.category_macro_f1 >= CATEGORY_F1_FLOOR
    assert scores.severity_accuracy >= SEVERITY_FLOOR


def test_model_trained_on_own_data_generalises_to_the_dev_fixture(
    training: list[Example],
) -> None:
    fixture = [e for e in training if e.id.startswith("dev-")]
    own = [e for e in training if not e.id.startswith("dev-")]
    assert len(fixture) >= 200
    assert len(own) >= 600
    policy = load_policy(policy_dir=POLICIES, pack="telecom")
    # Calibration only rescales scores; skipping it keeps this test fast.
    quick = TrainingSettings(calibration_folds=0)
    model = train_model(own, name="own", lexicon=lexicon_of(policy), settings=quick)
    assert_meets_targets(report(Classifier(policy, model), fixture))


def test_shipped_model_meets_the_targets_on_the_own_held_out_set() -> None:
    held = read_held_out(DATA)
    assert len(held) >= 200
    assert_meets_targets(report(Classifier.load(policy_dir=POLICIES, pack="telecom"), held))


def test_held_out_set_is_never_training_data(training: list[Example]) -> None:
    held = read_held_out(DATA)
    seen = {normalise(e.text) for e in training}
    assert not any(e.id.startswith("heldout") for e in training)
    assert [e.id for e in held if normalise(e.text) in seen] == []


def test_shipped_model_is_the_one_make_train_builds_from_the_data(
    training: list[Example],
) -> None:
    shipped = Classifier.load(policy_dir=POLICIES, pack="telecom")
    lexicon = lexicon_of(shipped.policy)
    name = shipped.model_version.rsplit("-", 1)[0]
    assert shipped.model_version == model_version(training, name=name, lexicon=lexicon)
    assert shipped.model is not None
    assert shipped.model.lexicon == lexicon


def test_evaluation_counts_misses_and_confusions() -> None:
    pairs = [
        (Labels("complaint", "billing", "P4"), Labels("complaint", "billing/overcharge", "P4")),
        (Labels("complaint", "billing", "P2"), Labels("complaint", "network", "P4")),
        (Labels("complaint", "network", "P4"), Labels("enquiry", None, None)),
        (Labels("enquiry", None, None), Labels("enquiry", None, None)),
    ]
    scores = evaluate(pairs)
    assert scores.kind_accuracy == 0.75
    assert scores.severity_accuracy == 0.5
    assert scores.per_class["billing"].recall == 0.5
    assert scores.per_class["billing"].precision == 1.0
    assert scores.per_class["network"].f1 == 0.0
    assert scores.category_macro_f1 == (2 / 3 + 0.0) / 2
    assert scores.confusion["network"] == {"(none)": 1}
