"""The real-voice set stays an honest measure: varied, complete, and never read by training."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from classifier.domain import Classifier, ClassifierInput, normalise
from classifier.domain.evaluation import SCORED_FLAGS, Labels, evaluate
from classifier.training import read_examples, read_held_out

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "classifier"
REALVOICE = ROOT / "tests" / "classifier" / "realvoice"
FRESH = REALVOICE / "fresh"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class _InputsReadError(Exception):
    """Raised by the stubbed training step once the script has read its inputs."""


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_set_covers_every_category_kind_severity_and_scored_flag() -> None:
    real = read_examples(REALVOICE)
    assert len(real) >= 300
    labels = Counter(e.label for e in real)
    expected = {"enquiry", "out_of_scope", "billing", "marketing", "fulfilment", "network"}
    expected |= {"value_added", "staff_conduct", "privacy_security", "other"}
    assert set(labels) == expected
    assert min(labels.values()) >= 15
    assert {e.severity for e in real} == {None, "P1", "P2", "P3", "P4"}
    flags = Counter(flag for e in real for flag in e.flags)
    assert all(flags[name] >= 7 for name in SCORED_FLAGS)
    traditional = [e for e in real if any(c in e.text for c in "們這說為還錢網號")]
    assert len(traditional) >= 30


def test_no_real_voice_text_is_training_or_held_out_data() -> None:
    real = {normalise(e.text) for e in read_examples(REALVOICE) + read_examples(FRESH)}
    seen = [normalise(e.text) for e in read_examples(DATA) + read_held_out(DATA)]
    assert [text for text in seen if text in real] == []


def test_make_train_never_opens_the_real_voice_set(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    read_text, iterdir = Path.read_text, Path.iterdir

    def recording_read_text(self: Path, *args: object, **kwargs: object) -> str:
        opened.append(self.resolve())
        return read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    def recording_iterdir(self: Path) -> object:
        opened.append(self.resolve())
        return iterdir(self)

    def stop(examples: object, **_: object) -> None:
        raise _InputsReadError

    train = _script("train_classifier")
    monkeypatch.setattr(Path, "read_text", recording_read_text)
    monkeypatch.setattr(Path, "iterdir", recording_iterdir)
    monkeypatch.setattr(train, "train_model", stop)
    monkeypatch.setattr(sys, "argv", ["train_classifier.py"])
    with pytest.raises(_InputsReadError):
        train.main()
    assert any(path.is_relative_to(DATA) for path in opened)  # the recorder saw the data
    assert not [path for path in opened if path.is_relative_to(REALVOICE)]


def test_each_fresh_set_is_new_text_and_reported_as_its_own_view(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    older = {normalise(e.text) for e in read_examples(REALVOICE)}
    files = sorted(FRESH.glob("*.tsv"))
    assert files
    for path in files:
        fresh = read_examples(FRESH)
        assert len([e for e in fresh if e.id.startswith(path.stem)]) >= 60
    assert [e.text for e in read_examples(FRESH) if normalise(e.text) in older] == []
    monkeypatch.setattr(sys, "argv", ["eval_classifier.py", "--only", "fresh"])
    assert _script("eval_classifier").main() == 0
    printed = capsys.readouterr().out
    for path in files:
        assert f"fresh set {path.name}" in printed


def test_flag_scores_count_false_alarms_and_misses() -> None:
    def labels(*flags: str) -> Labels:
        return Labels("complaint", "billing", "P2", frozenset(flags))

    scores = evaluate(
        [
            (labels("over_level"), labels("over_level")),
            (labels("over_level"), labels()),
            (labels(), labels("over_level", "media")),
        ]
    )
    assert scores.per_flag["over_level"].precision == 0.5
    assert scores.per_flag["over_level"].recall == 0.5
    assert scores.per_flag["media"].precision == 0.0
    assert scores.per_flag["media"].support == 0
    assert scores.severity_confusion == {"P2": {"P2": 3}}


def test_shipped_classifier_meets_the_issue_targets_on_the_real_voice_set() -> None:
    real = read_examples(REALVOICE)
    classifier = Classifier.load(policy_dir=ROOT / "policies", pack="telecom")
    items = [ClassifierInput(e.text, e.channel, e.tier) for e in real]
    decisions = classifier.classify_many(items, received_at=[NOW] * len(items))
    scores = evaluate(
        [
            (
                Labels(e.kind.value, e.category, e.severity, frozenset(e.flags)),
                Labels(
                    d.kind.value,
                    d.category,
                    d.severity.value if d.severity else None,
                    frozenset(f.name.value for f in d.flags),
                ),
            )
            for e, d in zip(real, decisions, strict=True)
        ]
    )
    assert scores.kind_accuracy >= 0.95
    assert scores.category_macro_f1 >= 0.90
    assert scores.severity_accuracy >= 0.90
    for name in ("over_level", "media"):
        assert scores.per_flag[name].recall >= 0.90
        assert scores.per_flag[name].precision >= 0.90
