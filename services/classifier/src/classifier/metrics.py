"""Classifier's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ClassifierMetrics:
    """Classifications per kind / category / severity, confidence, needs-review count."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.classified = Counter(
            "complaints_classified_total",
            "Classifications, by kind, top category and severity.",
            ["kind", "category", "severity"],
            registry=registry,
        )
        self.flags = Counter(
            "complaints_flags_total", "Flags raised, by flag.", ["flag"], registry=registry
        )
        self.confidence = Histogram(
            "complaints_classification_confidence",
            "Confidence of category decisions.",
            buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
            registry=registry,
        )
        self.needs_review = Counter(
            "complaints_needs_review_total",
            "Decisions flagged for human review (low confidence).",
            registry=registry,
        )
