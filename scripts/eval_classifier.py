"""Cross-validated scores of the telecom classifier (`make eval`).

Three views, all with fixed seeds: k-fold cross-validation over every example in data/classifier;
a model trained on the project's own hand-written data only, scored on the dev fixture (complaints
the model never saw); and throughput of the shipped model on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sklearn.model_selection import StratifiedKFold

from classifier.domain import Classifier, ClassifierInput, Decision
from classifier.domain.evaluation import Labels, Report, evaluate
from classifier.domain.policy_loader import load_policy
from classifier.domain.training import Example, TrainingSettings, read_examples, train_model

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _labels(decision: Decision) -> Labels:
    """What a decision says, in evaluation terms."""
    return Labels(
        decision.kind.value,
        decision.category,
        decision.severity.value if decision.severity else None,
    )


def _expected(example: Example) -> Labels:
    """What the example's label says."""
    return Labels(example.kind.value, example.category, example.severity)


def score(classifier: Classifier, examples: list[Example]) -> list[tuple[Labels, Labels]]:
    """Classify `examples` and pair expected with predicted labels."""
    items = [ClassifierInput(e.text, e.channel, e.tier) for e in examples]
    decisions = classifier.classify_many(items, received_at=[RECEIVED] * len(items))
    return [(_expected(e), _labels(d)) for e, d in zip(examples, decisions, strict=True)]


def cross_validate(examples: list[Example], *, policy_dir: Path, folds: int, seed: int) -> Report:
    """Stratified k-fold: train on k-1 folds, classify the held-out fold, pool the pairs."""
    policy = load_policy(policy_dir=policy_dir, pack="telecom")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    labels = [e.label for e in examples]
    pairs: list[tuple[Labels, Labels]] = []
    for train_index, test_index in splitter.split(examples, labels):
        model = train_model([examples[i] for i in train_index], name="cv")
        pairs += score(Classifier(policy, model), [examples[i] for i in test_index])
    return evaluate(pairs)


def holdout(examples: list[Example], *, policy_dir: Path) -> Report:
    """Train on the hand-written data only, score the dev fixture."""
    policy = load_policy(policy_dir=policy_dir, pack="telecom")
    own = [e for e in examples if not e.id.startswith("dev-")]
    fixture = [e for e in examples if e.id.startswith("dev-")]
    return evaluate(score(Classifier(policy, train_model(own, name="holdout")), fixture))


def throughput(examples: list[Example], *, policy_dir: Path, seconds: float = 3.0) -> float:
    """Classifications per second of the shipped model, single thread."""
    classifier = Classifier.load(policy_dir=policy_dir, pack="telecom")
    items = [ClassifierInput(e.text, e.channel, e.tier) for e in examples]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        classifier.classify_many(items, received_at=[RECEIVED] * len(items))
        done += len(items)
    return done / (time.perf_counter() - started)


def main() -> int:
    """Print the three views."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "classifier")
    parser.add_argument("--policies", type=Path, default=ROOT / "policies")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    examples = read_examples(args.data)
    seed = TrainingSettings().seed
    write = sys.stdout.write
    write(f"== {args.folds}-fold cross-validation over {len(examples)} examples ==\n")
    cv = cross_validate(examples, policy_dir=args.policies, folds=args.folds, seed=seed)
    write("\n".join(cv.lines()) + "\n\n")
    write("== trained on own data only, scored on the dev fixture (unseen) ==\n")
    write("\n".join(holdout(examples, policy_dir=args.policies).lines()) + "\n\n")
    rate = throughput(examples, policy_dir=args.policies)
    write(f"== throughput: {rate:,.0f} classifications/s (one thread) ==\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
