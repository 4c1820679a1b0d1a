"""Classifier's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from servicekit.metrics import Instruments

CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class ClassifierMetrics:
    """Classifications per kind / category / severity, confidence, needs-review count."""

    def __init__(self, registry: CollectorRegistry) -> None:
        kit = Instruments(registry)
        self.classified = kit.counter(
            "complaints_classified_total",
            "Classifications, by kind, top category and severity.",
            ["kind", "category", "severity"],
        )
        self.flags = kit.counter("complaints_flags_total", "Flags raised, by flag.", ["flag"])
        self.confidence = kit.histogram(
            "complaints_classification_confidence",
            "Confidence of category decisions.",
            buckets=CONFIDENCE_BUCKETS,
        )
        self.needs_review = kit.counter(
            "complaints_needs_review_total",
            "Decisions flagged for human review (low confidence).",
        )
