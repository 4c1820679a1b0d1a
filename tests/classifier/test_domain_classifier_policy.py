"""Policy packs: the shipped ones load, a bad one fails at start with a clear message."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.domain import Classifier, ClassifierInput, PolicyError
from contracts import Channel, FlagName, Kind, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the telecom pack (its model is found in the package)."""
    target = tmp_path / "telecom"
    target.mkdir()
    for name in ("pack.yaml", "classifier.yaml"):
        shutil.copy(POLICIES / "telecom" / name, target / name)
    return tmp_path


def edit(folder: Path, name: str, old: str, new: str) -> None:
    """Replace `old` once in a pack file, failing loudly if it is not there."""
    path = folder / "telecom" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unchanged_copy_loads(pack_copy: Path) -> None:
    assert Classifier.load(policy_dir=pack_copy, pack="telecom").policy.name == "telecom"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("classifier.yaml", "severity: P1", "severity: P0", "unknown value 'P0'"),
        ("classifier.yaml", "flags: [media]", "flags: [on_tv]", "unknown value 'on_tv'"),
        ("classifier.yaml", "channels: [regulator]}", "channels: [pigeon]}", "'pigeon'"),
        ("classifier.yaml", "'扬言|", "'(扬言|", "bad regular expression"),
        ("classifier.yaml", "rules: [media.happened]", "rules: [media.nope]", "media.nope"),
        ("classifier.yaml", "id: media.threat", "id: media.happened", "duplicate rule id"),
        ("classifier.yaml", "fallback_category: other", "fallback_category: misc", "misc"),
        ("classifier.yaml", "file: telecom-category.npz", "file: gone.npz", "gone.npz"),
        ("classifier.yaml", "days: 90", "days: -1", "positive number"),
        ("classifier.yaml", "taxonomy:", "taxonomy: []\nunused:", "expected a mapping"),
        ("classifier.yaml", "schema: 1", "schema: [1", "not valid YAML"),
        ("pack.yaml", "name: telecom", "name: banking", "folder is 'telecom'"),
        ("pack.yaml", 'version: "2026.11.1"', "version: ''", "non-empty string"),
    ],
)
def test_a_bad_pack_fails_with_file_and_problem(
    pack_copy: Path, name: str, old: str, new: str, message: str
) -> None:
    edit(pack_copy, name, old, new)
    with pytest.raises(PolicyError) as error:
        Classifier.load(policy_dir=pack_copy, pack="telecom")
    text = str(error.value)
    assert message in text
    assert str(pack_copy / "telecom") in text


def test_a_missing_pack_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy pack 'banking' not found"):
        Classifier.load(policy_dir=tmp_path, pack="banking")


def test_count_levels_need_a_count_group(pack_copy: Path) -> None:
    edit(pack_copy, "classifier.yaml", "'(?P<count>{num})(?:户|戶|家)", "'(?:{num})(?:户|戶|家)")
    with pytest.raises(PolicyError, match=r"\(\?P<count>"):
        Classifier.load(policy_dir=pack_copy, pack="telecom")


def test_property_pack_brings_its_own_taxonomy_and_windows() -> None:
    classifier = Classifier.load(policy_dir=POLICIES, pack="property")
    assert classifier.model_version == "keywords-only"
    assert classifier.history_windows.repeat_days == 180
    codes = {category.code for category in classifier.policy.categories}
    assert {"engineering_quality", "property_management", "sales"} <= codes


@pytest.mark.parametrize(
    ("text", "category", "severity", "flag"),
    [
        (
            "我家卫生间漏水三个月了，墙皮都发霉了，维修一直没人来。",
            "engineering_quality",
            "P4",
            None,
        ),
        (
            "我们15户业主联名投诉：小区电梯经常困人，物业不管。",
            "property_management",
            "P1",
            "collective",
        ),
        (
            "交房延期两个月，售楼处当初承诺九月交房，再不给说法我就起诉。",
            "sales",
            "P2",
            "litigation",
        ),
        ("物業保安態度惡劣，還推搡業主致其摔傷。", None, "P1", "safety"),
    ],
)
def test_property_pack_classifies_with_its_rules(
    text: str, category: str | None, severity: str, flag: str | None
) -> None:
    classifier = Classifier.load(policy_dir=POLICIES, pack="property")
    decision = classifier.classify(ClassifierInput(text, Channel.WEB), received_at=NOW)
    assert decision.kind is Kind.COMPLAINT
    assert decision.policy == "property"
    if category is not None:
        assert decision.category == category
    assert decision.severity is Severity(severity)
    if flag is not None:
        assert decision.has_flag(FlagName(flag))


def test_property_pack_recognises_enquiries() -> None:
    classifier = Classifier.load(policy_dir=POLICIES, pack="property")
    decision = classifier.classify(
        ClassifierInput("请问物业费怎么交？", Channel.WECHAT), received_at=NOW
    )
    assert decision.kind is Kind.ENQUIRY
    assert decision.severity is None
