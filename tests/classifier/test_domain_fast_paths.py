"""The classifier's fast paths decide exactly as the plain versions they replaced (issue 16).

Each plain version is kept here as the reference: rules evaluated one by one with no trigger,
scope windows found by walking back character by character, features counted in a Python loop,
n-grams sliced one by one. Inputs: the dev fixture, the training and held-out examples and the
real-voice set, on their own channel and on `forum`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from classifier.domain import Classifier, normalise
from classifier.domain.area import _PLACE, area_in
from classifier.domain.decision import History, HistoryWindows
from classifier.domain.history import assess_history
from classifier.domain.lexicon import LexiconIndex, lexicon_hits
from classifier.domain.ngram_table import NgramTable
from classifier.domain.normalise import _COMPAT_BLOCKS, nfkc
from classifier.domain.policy import HistoryPolicy
from classifier.domain.required_chars import CharBits, required_chars
from classifier.domain.rules import Firing, RuleBook, evaluate
from classifier.domain.scopes import (
    _CLAUSE_START,
    _LOOKBACK,
    _SENTENCE_START,
    Reach,
    Scope,
    voided_by,
)
from classifier.domain.text_model import char_ngrams, model_tokens
from contracts import Channel, CustomerTier
from tests._builders.classifier import stored_messages

ROOT = Path(__file__).resolve().parents[2]


TEXTS = stored_messages()


def plain_evaluate_all(
    classifier: Classifier, text: str, channel: Channel, tier: CustomerTier
) -> list[Firing]:
    """Every rule evaluated in full, in pack order."""
    fired: set[str] = set()
    firings = []
    for rule in (*classifier.policy.kind_rules, *classifier.policy.rules):
        firing = evaluate(rule, text=text, channel=channel, tier=tier, fired=fired)
        if firing is not None:
            fired.add(rule.id)
            firings.append(firing)
    return firings


def plain_voided_by(text: str, start: int, end: int, scopes: tuple[Scope, ...]) -> Scope | None:
    """Scope windows found character by character."""
    for scope in scopes:
        boundary = _CLAUSE_START if scope.reach is Reach.CLAUSE else _SENTENCE_START
        begin = start
        floor = max(0, start - _LOOKBACK[scope.reach.value])
        while begin > floor and not boundary.match(text, begin - 1):
            begin -= 1
        stop = end
        if scope.after:
            limit = min(len(text), end + scope.after)
            while stop < limit and not boundary.match(text, stop):
                stop += 1
        if scope.cues.search(text, begin, stop):
            return scope
    return None


def test_rules_fire_as_when_every_rule_is_evaluated(telecom: Classifier) -> None:
    bits = CharBits()
    book = RuleBook((*telecom.policy.kind_rules, *telecom.policy.rules), bits)
    fired = 0
    for raw, channel, tier in TEXTS:
        text = normalise(raw)
        fast = book.evaluate(text=text, channel=channel, tier=tier, met=bits.met(set(text)))
        assert fast == plain_evaluate_all(telecom, text, channel, tier), raw
        fired += len(fast)
    assert fired > len(TEXTS) // 4  # the comparison covered many firings, not only silence


def test_scope_windows_match_the_character_walk(telecom: Classifier) -> None:
    scopes = tuple(
        {s.name: s for rule in telecom.policy.rules for s in rule.unless_scopes}.values()
    )
    assert {s.reach for s in scopes} == {Reach.CLAUSE, Reach.SENTENCE}
    assert any(s.after for s in scopes)
    voided = 0
    for raw, _, _ in TEXTS[:150]:
        text = normalise(raw)
        for position in range(0, len(text), 4):
            end = min(len(text), position + 2)
            for one in scopes:
                got = voided_by(text, position, end, (one,))
                assert got == plain_voided_by(text, position, end, (one,)), (raw, position)
                voided += got is not None
    assert voided > 50


def test_scope_windows_on_long_unpunctuated_text() -> None:
    scope = Scope("negation", re.compile("不会"), Reach.CLAUSE, after=5)
    text = "不会" + "啊" * 300 + ",起诉" + "呢" * 50
    for position in (0, 1, 79, 80, 81, 250, 303, 305, len(text) - 1):
        end = min(len(text), position + 2)
        assert voided_by(text, position, end, (scope,)) == plain_voided_by(
            text, position, end, (scope,)
        )


def test_ngrams_match_slicing() -> None:
    for text in ["", "话", "话费", "话费被多扣了 20 元", "x" * 40, TEXTS[0][0]]:
        for low, high in [(1, 3), (2, 3), (1, 1), (3, 3), (2, 5)]:
            folded = re.sub(r"\s+", "", re.sub(r"\d+", "0", text))
            sliced = [
                folded[i : i + n] for n in range(low, high + 1) for i in range(len(folded) - n + 1)
            ]
            assert char_ngrams(text, low=low, high=high) == sliced


def test_features_match_a_plain_count_to_the_last_bit(telecom: Classifier) -> None:
    model = telecom.model
    assert model is not None
    for raw, _, _ in TEXTS:
        text = normalise(raw)
        tokens, _ = model_tokens(
            text, low=model.ngram_low, high=model.ngram_high, lexicon=model.lexicon
        )
        counts: dict[int, int] = {}
        for token in tokens:
            index = model.vocabulary.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        indices, weights = model.features(text)
        assert indices.tolist() == list(counts)
        if counts:
            tf = 1.0 + np.log(np.array(list(counts.values()), dtype=np.float64))
            plain = tf * model.idf[indices]
            plain = plain / max(float(np.sqrt(plain @ plain)), model.norm_floor)
            assert weights.tobytes() == plain.tobytes()


def test_lexicon_index_finds_what_trying_every_keyword_finds(telecom: Classifier) -> None:
    model = telecom.model
    assert model is not None
    index = LexiconIndex(model.lexicon)
    found = 0
    for raw, _, _ in TEXTS:
        text = normalise(raw)
        assert index.hits(text) == lexicon_hits(model.lexicon, text), raw
        found += bool(index.hits(text))
    assert found > len(TEXTS) // 2
    odd = {"a": ("话费", "", "话费"), "b": ("费", "话")}
    for text in ["", "话费", "费话", "无关"]:
        assert LexiconIndex(odd).hits(text) == lexicon_hits(odd, text)


def test_every_match_meets_its_patterns_requirements(telecom: Classifier) -> None:
    rules = (*telecom.policy.kind_rules, *telecom.policy.rules)
    patterns = [p for r in rules for p in (*r.patterns, *r.requires, *r.unless)]
    known = [(p, needs) for p in patterns if (needs := required_chars(p))]
    assert len(known) > len(patterns) * 9 // 10  # nearly every pattern gets a prefilter
    assert sum(len(needs) > 1 for _, needs in known) > 30  # and most of them several
    checked = 0
    for raw, _, _ in TEXTS:
        text = normalise(raw)
        for pattern, needs in known:
            for match in pattern.finditer(text):
                for chars in needs:
                    assert not chars.isdisjoint(match.group(0)), (pattern.pattern, raw)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("已经|早已", [{"已", "早"}]),
        ("(?:打过|找了)12315", [{"1"}, {"2"}, {"3"}, {"5"}, {"打", "找"}]),
        ("(?<!不)会?起诉", [{"诉"}, {"起"}]),
        ("[一二三]个人", [{"个"}, {"人"}, {"一", "二", "三"}]),
        ("VIP", [{"i", "I"}, {"p", "P"}, {"v", "V"}]),
        ("(?:^|[^要])投诉", [{"投"}, {"诉"}]),
        (r"(?P<count>\d+)户", [{"户"}]),
        ("a*", []),
        (".起诉", [{"诉"}, {"起"}]),
        ("(?:向|在).{0,4}法院|案号", [{"法", "案"}]),
        ("(?:起诉|.)", []),
    ],
)
def test_requirements_of_small_patterns(source: str, expected: list[set[str]]) -> None:
    compiled = re.compile(source, re.IGNORECASE)
    assert required_chars(compiled) == tuple(frozenset(chars) for chars in expected)


def test_char_bits_meet_exactly_the_requirements_a_text_holds() -> None:
    bits = CharBits()
    both = bits.need((frozenset("已早"), frozenset("12")))
    alone = bits.need((frozenset("已早"),))
    assert bits.need(()) == 0  # no requirement known: always searched
    assert alone & both == alone  # the same requirement is one bit
    for text, fits_both, fits_alone in [
        ("早就打了12315", True, True),
        ("已经去了", False, True),
        ("打了12315", False, False),
        ("", False, False),
    ]:
        met = bits.met(set(text))
        assert (met & both == both, met & alone == alone) == (fits_both, fits_alone), text


def _sliced(vocabulary: dict[str, int], text: str, low: int, high: int) -> list[int]:
    """Known n-gram indices by slicing the folded text, unigrams first (the plain version)."""
    folded = re.sub(r"\s+", "", re.sub(r"\d+", "0", text))
    grams = [folded[i : i + n] for n in range(low, high + 1) for i in range(len(folded) - n + 1)]
    return [vocabulary[gram] for gram in grams if gram in vocabulary]


@pytest.mark.parametrize(("low", "high"), [(1, 2), (1, 1), (2, 2), (1, 3), (2, 3)])
def test_ngram_table_finds_what_slicing_finds(low: int, high: int) -> None:
    texts = [
        "",
        "话",
        "话费被多扣了 20 元",
        "网速😡慢😡",
        "𠮷野家",
        "x" * 40,
        *(t for t, _, _ in TEXTS[:300]),
    ]
    grams = {g for t in texts[:200] for g in char_ngrams(normalise(t), low=low, high=high)}
    vocabulary = {g: i for i, g in enumerate(sorted(grams)[::3])}  # a third known, as in a model
    vocabulary["kw billing"] = len(vocabulary)  # lexicon tokens are never n-grams
    table = NgramTable(vocabulary, low=low, high=high)
    for raw in texts:
        text = normalise(raw)
        assert table.indices(text) == _sliced(vocabulary, text, low, high), raw


def test_the_place_name_prefilter_changes_no_answer() -> None:
    for raw, _, _ in TEXTS:
        text = normalise(raw)
        found = _PLACE.search(text)
        assert area_in(text) == (found.group(0) if found else None), raw


def test_nfkc_is_unicodedatas() -> None:
    compat = [chr(c) for low, high in _COMPAT_BLOCKS for c in range(low, high)]
    marks = ["\u0301", "\u0308", "\u3099", "\u309a", "\u20dd"]
    texts = [
        *compat,
        *(c + m for c in compat[::7] for m in marks),
        "Ａ\u0301",
        "ｶﾞ",
        "ｶ\u3099",
        "ﬁ，㎡",
        "\u1100\u1161\u11a8（한）",
        *(raw for raw, _, _ in TEXTS),
    ]
    for text in texts:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), ascii(text)


def test_no_history_skips_the_rules_only_when_they_cannot_fire() -> None:
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def findings(**windows: int) -> list[str]:
        policy = HistoryPolicy(windows=HistoryWindows(**windows))
        found = assess_history(
            category="network/signal",
            area="阳光花园小区",
            complainant_key="k1",
            received_at=at,
            history=History(),
            policy=policy,
            tier=CustomerTier.GOLD,
        )
        return [finding.flag.name.value for finding in found]

    assert findings() == []
    assert findings(hot_issue_min_complainants=1) == ["hot_issue"]
    assert findings(mass_incident_min_complaints=1) == ["mass_incident"]
    assert findings(mass_incident_min_important=1) == ["mass_incident"]
