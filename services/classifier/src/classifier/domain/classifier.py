"""Hybrid classifier: explainable rules for kind, severity and flags; a text model for category."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from classifier.domain.area import area_in
from classifier.domain.decision import (
    ClassifierInput,
    Decision,
    History,
    HistoryWindows,
    Reading,
)
from classifier.domain.history import HistoryFinding, assess_history
from classifier.domain.normalise import normalise_and_quoter
from classifier.domain.policy import ClassifierPolicy, PolicyError
from classifier.domain.policy_loader import load_policy
from classifier.domain.required_chars import CharBits
from classifier.domain.rules import Firing, Quote, RuleBook
from classifier.domain.taxonomy import category_path, keyword_prediction
from classifier.domain.text_model import LinearTextModel, Prediction
from contracts import Flag, FlagName, Kind, Reason, Severity

MODEL_DIR = Path(__file__).resolve().parent.parent / "model"
"""Where trained models ship inside the package; a pack may also carry its own."""

KEYWORDS_ONLY = "keywords-only"
NO_HISTORY = History()
_NON_COMPLAINT_KINDS = {Kind.ENQUIRY.value, Kind.OUT_OF_SCOPE.value}


class Classifier:
    """Classifies messages with one policy pack and, if the pack names one, a text model."""

    def __init__(self, policy: ClassifierPolicy, model: LinearTextModel | None) -> None:
        """Use `policy` and `model` (already loaded and checked)."""
        self.policy = policy
        self.model = model
        self._bits = CharBits()  # one scan of a message's characters serves both books
        self._kind_book = RuleBook(policy.kind_rules, self._bits)
        self._rule_book = RuleBook(policy.rules, self._bits)
        if model is not None:
            unknown = (
                set(model.classes) - {c.code for c in policy.categories} - _NON_COMPLAINT_KINDS
            )
            if unknown:
                raise PolicyError(
                    f"model {model.version}: classes {sorted(unknown)} are not in the "
                    f"{policy.name} taxonomy"
                )

    @classmethod
    def load(cls, *, policy_dir: Path, pack: str = "telecom") -> Classifier:
        """Read `policy_dir/<pack>/pack.yaml`, `classifier.yaml` and the model they name."""
        policy = load_policy(policy_dir=policy_dir, pack=pack)
        model = None
        if policy.model_file:
            candidates = [policy_dir / pack / policy.model_file, MODEL_DIR / policy.model_file]
            found = next((path for path in candidates if path.is_file()), None)
            if found is None:
                raise PolicyError(
                    f"{policy_dir / pack / 'classifier.yaml'}: model.file {policy.model_file!r} "
                    f"not found (looked in {', '.join(str(c.parent) for c in candidates)})"
                )
            model = LinearTextModel.load(found)
        return cls(policy, model)

    @property
    def history_windows(self) -> HistoryWindows:
        """How far back the service should query history, from the pack."""
        return self.policy.history.windows

    @property
    def _source(self) -> str:
        """Rule id of statistical evidence: the model, or taxonomy keywords without one."""
        return "model" if self.model else "taxonomy.keywords"

    @property
    def model_version(self) -> str:
        """Version of the text model, or `keywords-only`."""
        return self.model.version if self.model else KEYWORDS_ONLY

    def classify(
        self, item: ClassifierInput, *, received_at: datetime, history: History = NO_HISTORY
    ) -> Decision:
        """Kind, category path, severity and flags of one message, with explanations."""
        return self.decide(self.read_many([item])[0], received_at=received_at, history=history)

    def classify_many(
        self, items: Sequence[ClassifierInput], *, received_at: Sequence[datetime]
    ) -> list[Decision]:
        """Classify a batch without history: one model pass for the batch, then the rules."""
        if len(items) != len(received_at):
            raise ValueError("items and received_at must have the same length")
        return [
            self.decide(reading, received_at=when)
            for reading, when in zip(self.read_many(items), received_at, strict=True)
        ]

    def read_many(self, items: Sequence[ClassifierInput]) -> list[Reading]:
        """What each message says before its history is known: one model pass for the batch.

        A reading can be decided against several histories (`decide`) without reading the
        text again: the service decides a batch once without history, then again with it.
        """
        folded = [normalise_and_quoter(item.text) for item in items]
        chars = [set(text) for text, _ in folded]
        predictions = self._predict([text for text, _ in folded], chars)
        return [
            self._read(item, text, known, quote, prediction)
            for item, (text, quote), known, prediction in zip(
                items, folded, chars, predictions, strict=True
            )
        ]

    def decide(
        self, reading: Reading, *, received_at: datetime, history: History = NO_HISTORY
    ) -> Decision:
        """The decision on a message read by `read_many`, against its `history`."""
        if reading.kind is not Kind.COMPLAINT or reading.category is None:
            return self._decision(
                kind=reading.kind,
                category=None,
                severity=None,
                flags=[],
                confidence=reading.confidence,
                explanation=list(reading.explanation),
            )
        item = reading.item
        findings = assess_history(
            category=reading.category,
            tier=item.customer_tier,
            area=reading.area,
            complainant_key=item.complainant_key,
            received_at=received_at,
            history=history,
            policy=self.policy.history,
        )
        return self._decision(
            kind=reading.kind,
            category=reading.category,
            severity=_severity(reading.firings, findings, self.policy.default_severity),
            flags=_flags(reading.firings, findings),
            confidence=reading.confidence,
            explanation=[*reading.explanation, *(finding.reason for finding in findings)],
            incident=next((f for f in findings if f.incident_key), None),
        )

    def _read(
        self,
        item: ClassifierInput,
        text: str,
        chars: set[str],
        quote: Quote,
        prediction: Prediction,
    ) -> Reading:
        """Kind, category path and rule firings of one normalised message."""
        met = self._bits.met(chars)
        kind, kind_reasons, kind_confidence = self._kind(item, text, met, prediction, quote)
        if kind is not Kind.COMPLAINT:
            return Reading(item, kind, kind_confidence, tuple(kind_reasons))
        top, confidence = self._category(prediction)
        path, path_words = category_path(self.policy.categories_by_code[top], text, chars)
        explanation = [
            *kind_reasons,
            Reason(rule=self._source, effect=f"category={top}", matched=list(prediction.evidence)),
        ]
        if path_words:
            explanation.append(
                Reason(rule=f"taxonomy.{path}", effect=f"category={path}", matched=path_words)
            )
        firings = self._rule_book.evaluate(
            text=text, channel=item.channel, tier=item.customer_tier, met=met
        )
        explanation += [f.reason(quote) for f in firings]
        return Reading(
            item, kind, confidence, tuple(explanation), path, tuple(firings), area_in(text)
        )

    def _predict(self, texts: Sequence[str], chars: Sequence[set[str]]) -> list[Prediction]:
        """The text model's view of each text, or keywords when the pack has no model."""
        if self.model is None:
            return [keyword_prediction(self.policy, text) for text in texts]
        return self.model.predict_many(texts, chars=chars)

    def _kind(
        self,
        item: ClassifierInput,
        text: str,
        met: int,
        prediction: Prediction,
        quote: Quote,
    ) -> tuple[Kind, list[Reason], float]:
        """Kind from the first kind rule that fires, else from the model's class groups."""
        firings = self._kind_book.evaluate(
            text=text, channel=item.channel, tier=item.customer_tier, met=met
        )
        probabilities = prediction.probabilities
        by_kind = {
            Kind.ENQUIRY: probabilities.get(Kind.ENQUIRY.value, 0.0),
            Kind.OUT_OF_SCOPE: probabilities.get(Kind.OUT_OF_SCOPE.value, 0.0),
        }
        by_kind[Kind.COMPLAINT] = max(0.0, 1.0 - sum(by_kind.values()))
        if firings and firings[0].rule.kind is not None:
            kind = firings[0].rule.kind
            return kind, [firings[0].reason(quote)], max(by_kind[kind], _RULE_CONFIDENCE)
        kind = max(by_kind, key=lambda k: by_kind[k])
        if kind is Kind.COMPLAINT:
            return kind, [], by_kind[kind]
        reason = Reason(
            rule="model", effect=f"kind={kind.value}", matched=list(prediction.evidence)
        )
        return kind, [reason], by_kind[kind]

    def _category(self, prediction: Prediction) -> tuple[str, float]:
        """The most likely complaint category and its probability among categories."""
        scores = {
            code: prediction.probabilities.get(code, 0.0) for code in self.policy.categories_by_code
        }
        total = sum(scores.values())
        best = max(scores, key=lambda code: scores[code])
        if total <= 0.0:
            return self.policy.fallback_category, 0.0
        if self.model is None:
            return best, prediction.probability
        return best, scores[best] / total

    def _decision(
        self,
        *,
        kind: Kind,
        category: str | None,
        severity: Severity | None,
        flags: list[Flag],
        confidence: float,
        explanation: list[Reason],
        incident: HistoryFinding | None = None,
    ) -> Decision:
        """Assemble a decision, adding `needs_review` when confidence is low."""
        confidence = round(min(1.0, max(0.0, confidence)), 4)
        if confidence < self.policy.min_confidence:
            flags = [
                *flags,
                Flag(
                    name=FlagName.NEEDS_REVIEW,
                    detail=f"confidence {confidence} < {self.policy.min_confidence}",
                ),
            ]
        return Decision(
            kind=kind,
            category=category,
            severity=severity,
            flags=tuple(flags),
            confidence=confidence,
            explanation=tuple(explanation),
            model_version=self.model_version,
            policy=self.policy.name,
            policy_version=self.policy.version,
            incident_key=incident.incident_key if incident else None,
            incident_members=incident.incident_members if incident else (),
        )


_RULE_CONFIDENCE = 0.9
"""Confidence of a kind decided by an explicit rule when the model disagrees."""


def _severity(
    firings: Sequence[Firing], findings: list[HistoryFinding], default: Severity
) -> Severity:
    """The most severe level any rule gave (P1 beats P2 …), else the default."""
    levels = [f.severity for f in firings if f.severity] + [f.severity for f in findings]
    return min([default, *levels], key=lambda level: level.rank)


def _flags(firings: Sequence[Firing], findings: list[HistoryFinding]) -> list[Flag]:
    """One flag per name: the first detail, the largest count, all related complaints."""
    merged: dict[FlagName, Flag] = {}
    for flag in [flag for firing in firings for flag in firing.flags()] + [
        finding.flag for finding in findings
    ]:
        earlier = merged.get(flag.name)
        if earlier is None:
            merged[flag.name] = flag
            continue
        counts = [c for c in (earlier.count, flag.count) if c is not None]
        merged[flag.name] = earlier.model_copy(
            update={
                "count": max(counts) if counts else None,
                "related": list(dict.fromkeys([*earlier.related, *flag.related])),
            }
        )
    return list(merged.values())
