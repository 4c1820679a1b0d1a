"""Classifier speed of this tree against a git revision, in one process: `--against REF`.

On a shared, loaded machine a throughput figure taken alone says more about the neighbours than
about the code. This loads the classifier package of `REF` (extracted with `git archive`) and the
working tree's side by side in one process and classifies the dev fixture with each in turn,
alternating pass by pass, timing CPU seconds, one at a time (`classify`) and as one batch
(`classify_many`). The ratio is the figure to trust; the rates are
only comparable within one run. Texts are never printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "services/classifier/src"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import classifier_throughput as bench  # noqa: E402 (the bench folder is not a package)
import handler_cpu  # noqa: E402


def _extract(ref: str, into: Path) -> Path:
    """The classifier sources of `ref` under `into`."""
    return handler_cpu.extract(ref, "classifier", into)


def _load(source: Path) -> Any:
    """A telecom classifier built from the `classifier` package found under `source`."""
    for name in [n for n in sys.modules if n == "classifier" or n.startswith("classifier.")]:
        del sys.modules[name]
    sys.path.insert(0, str(source))
    try:
        from classifier.domain import Classifier

        return Classifier.load(policy_dir=ROOT / "policies", pack="telecom")
    finally:
        sys.path.remove(str(source))


def _pass(classify: Callable[..., Any], items: list[Any]) -> float:
    """CPU seconds to classify `items` once, one at a time."""
    started = time.process_time()
    for item in items:
        classify(item, received_at=bench.RECEIVED)
    return time.process_time() - started


def _batch_pass(classify_many: Callable[..., Any], items: list[Any]) -> float:
    """CPU seconds to classify `items` once, as one `classify_many` batch."""
    started = time.process_time()
    classify_many(items, received_at=[bench.RECEIVED] * len(items))
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    """Print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--passes", type=int, default=30, help="passes over the fixture each")
    args = parser.parse_args(argv)
    print(f"classifier compare: {bench.pin_to_one_core()}", flush=True)
    items = bench.load_items(240)
    with tempfile.TemporaryDirectory() as folder:
        classifiers = {
            args.against: _load(_extract(args.against, Path(folder))),
            "tree": _load(ROOT / PACKAGE),
        }
    runs = {
        (name, path): (_pass, classifier.classify)
        if path == "single"
        else (_batch_pass, classifier.classify_many)
        for name, classifier in classifiers.items()
        for path in ("single", "many")
    }
    times: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for run, classify in runs.values():
        run(classify, items)  # warm up
    for index in range(args.passes):
        order = list(runs.items())
        for key, (run, classify) in order if index % 2 else reversed(order):
            times[key].append(run(classify, items))
    rates = {key: len(items) / statistics.median(seconds) for key, seconds in times.items()}
    for path in ("single", "many"):
        base, tree = rates[(args.against, path)], rates[("tree", path)]
        print(
            f"classifier compare ({path}): {args.passes} alternating passes of {len(items)} "
            f"items, {args.against} {base:,.0f}/s, tree {tree:,.0f}/s (CPU seconds, median), "
            f"ratio {tree / base:.2f}×"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
