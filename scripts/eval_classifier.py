"""Scores of the telecom classifier (`make eval`).

Five views, all with fixed seeds:

1. k-fold cross-validation over the training data in data/classifier (the dev fixture copy plus
   the project's own hand-written examples);
2. a model trained on the own examples only, scored on the dev fixture (complaints it never saw);
3. a model trained exactly like the shipped one (all training data), scored on the own held-out
   set in data/classifier/heldout, which is never used for training or for choosing settings;
4. the shipped classifier (model and pack) on the real-voice set in tests/classifier/realvoice:
   complaints in customers' own words, never read by training or tuning, with per-flag precision
   and recall;
5. the shipped classifier on each fresh real-voice file in tests/classifier/realvoice/fresh, one
   view per file: sets written after the rules, kept apart so their first score stays readable;
6. throughput of the shipped model on one thread.

`--only realvoice` prints the fourth view alone, `--only fresh` the fifth (a few seconds, no
training).
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
from classifier.domain.policy import ClassifierPolicy
from classifier.domain.policy_loader import load_policy
from classifier.training import (
    Example,
    TrainingSettings,
    lexicon_of,
    read_examples,
    read_held_out,
    read_tsv,
    train_model,
)

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DEV_PREFIX = "dev-"
REALVOICE = ROOT / "tests" / "classifier" / "realvoice"
FRESH = "fresh"
"""Sub-folder of the real-voice set: one file per fresh set, each scored as its own view."""


def _labels(decision: Decision) -> Labels:
    """What a decision says, in evaluation terms."""
    return Labels(
        decision.kind.value,
        decision.category,
        decision.severity.value if decision.severity else None,
        frozenset(flag.name.value for flag in decision.flags),
    )


def _expected(example: Example) -> Labels:
    """What the example's label says."""
    return Labels(example.kind.value, example.category, example.severity, frozenset(example.flags))


def score(classifier: Classifier, examples: list[Example]) -> list[tuple[Labels, Labels]]:
    """Classify `examples` and pair expected with predicted labels."""
    items = [ClassifierInput(e.text, e.channel, e.tier) for e in examples]
    decisions = classifier.classify_many(items, received_at=[RECEIVED] * len(items))
    return [(_expected(e), _labels(d)) for e, d in zip(examples, decisions, strict=True)]


def trained(policy: ClassifierPolicy, examples: list[Example], *, name: str) -> Classifier:
    """A classifier with `policy` and a model trained on `examples` the way `make train` does."""
    return Classifier(policy, train_model(examples, name=name, lexicon=lexicon_of(policy)))


def cross_validate(
    examples: list[Example], *, policy: ClassifierPolicy, folds: int, seed: int
) -> Report:
    """Stratified k-fold: train on k-1 folds, classify the held-out fold, pool the pairs."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    labels = [e.label for e in examples]
    pairs: list[tuple[Labels, Labels]] = []
    for train_index, test_index in splitter.split(examples, labels):
        classifier = trained(policy, [examples[i] for i in train_index], name="cv")
        pairs += score(classifier, [examples[i] for i in test_index])
    return evaluate(pairs)


def own_to_dev(examples: list[Example], *, policy: ClassifierPolicy) -> Report:
    """Train on the hand-written data only, score the dev fixture."""
    own = [e for e in examples if not e.id.startswith(DEV_PREFIX)]
    fixture = [e for e in examples if e.id.startswith(DEV_PREFIX)]
    return evaluate(score(trained(policy, own, name="own"), fixture))


def held_out(examples: list[Example], held: list[Example], *, policy: ClassifierPolicy) -> Report:
    """Train on all training data, score the own held-out set."""
    return evaluate(score(trained(policy, examples, name="all"), held))


def real_voice(real: list[Example], *, policy_dir: Path) -> Report:
    """The shipped classifier, as `complaints classify` runs it, on the real-voice set."""
    return evaluate(score(Classifier.load(policy_dir=policy_dir, pack="telecom"), real))


def fresh_views(folder: Path, *, policy_dir: Path) -> list[str]:
    """One real-voice view per file in `folder` (none when the folder does not exist)."""
    out: list[str] = []
    for path in sorted(folder.glob("*.tsv")) if folder.is_dir() else []:
        fresh = read_tsv(path)
        out.append(
            f"== shipped classifier on the fresh set {path.name} ({len(fresh)}, never tuned on) =="
        )
        out += real_voice(fresh, policy_dir=policy_dir).lines()
        out.append("")
    return out


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
    """Print the views."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "classifier")
    parser.add_argument("--policies", type=Path, default=ROOT / "policies")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--realvoice", type=Path, default=REALVOICE)
    parser.add_argument("--only", choices=["realvoice", "fresh"], help="print one view only")
    args = parser.parse_args()
    write = sys.stdout.write
    fresh = fresh_views(args.realvoice / FRESH, policy_dir=args.policies)
    if args.only == "fresh":
        write("\n".join(fresh))
        return 0
    real = read_examples(args.realvoice)
    real_report = real_voice(real, policy_dir=args.policies)
    real_title = f"== shipped classifier on the real-voice set ({len(real)}, never trained on) ==\n"
    if args.only == "realvoice":
        write(real_title + "\n".join(real_report.lines()) + "\n")
        return 0
    examples = read_examples(args.data)
    held = read_held_out(args.data)
    policy = load_policy(policy_dir=args.policies, pack="telecom")
    seed = TrainingSettings().seed
    write(f"== {args.folds}-fold cross-validation over {len(examples)} training examples ==\n")
    cv = cross_validate(examples, policy=policy, folds=args.folds, seed=seed)
    write("\n".join(cv.lines()) + "\n\n")
    write("== trained on own data only, scored on the dev fixture (unseen) ==\n")
    write("\n".join(own_to_dev(examples, policy=policy).lines()) + "\n\n")
    write(f"== trained on all training data, scored on the own held-out set ({len(held)}) ==\n")
    write("\n".join(held_out(examples, held, policy=policy).lines()) + "\n\n")
    write(real_title + "\n".join(real_report.lines()) + "\n\n")
    write("\n".join(fresh) + "\n")
    rate = throughput(examples, policy_dir=args.policies)
    write(f"== throughput: {rate:,.0f} classifications/s (one thread) ==\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
