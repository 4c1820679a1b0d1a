"""Train the telecom category model from data/classifier and write it into the package.

Reproducible: examples are read in file-name order, the solver is deterministic and seeded, the
keyword lexicon comes from the pack's taxonomy, and the model version is a digest of the training
data, lexicon and settings. The held-out set (data/classifier/heldout) is never read. Usage:

    python scripts/train_classifier.py [--data data/classifier] [--out …/telecom-category.npz]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from classifier.domain.policy_loader import load_policy
from classifier.training import TrainingSettings, lexicon_of, read_examples, train_model

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "data" / "classifier"
DEFAULT_OUT = ROOT / "services/classifier/src/classifier/model/telecom-category.npz"


def main() -> int:
    """Train, save, report size and time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--policies", type=Path, default=ROOT / "policies")
    parser.add_argument("--pack", default="telecom")
    parser.add_argument("--name", default="telecom-ngram-kw-lr")
    args = parser.parse_args()
    started = time.perf_counter()
    examples = read_examples(args.data)
    lexicon = lexicon_of(load_policy(policy_dir=args.policies, pack=args.pack))
    model = train_model(examples, name=args.name, lexicon=lexicon, settings=TrainingSettings())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as handle:
        np.savez_compressed(handle, allow_pickle=False, **model.to_arrays())
    elapsed = time.perf_counter() - started
    size_kb = args.out.stat().st_size / 1024
    sys.stdout.write(
        f"trained {model.version} on {len(examples)} examples, {len(model.vocabulary)} features, "
        f"{len(model.classes)} classes in {elapsed:.1f}s -> {args.out} ({size_kb:.0f} KiB)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
