"""Notifier's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.metrics import LATENCY_BUCKETS


class NotifierMetrics:
    """Sent, failed, deferred per channel and audience; delivery latency; attempts."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.outcomes = Counter(
            "complaints_notifications_total",
            "Notifications by channel, audience and status.",
            ["channel", "audience", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "complaints_notification_latency_seconds",
            "Trigger event to delivery.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.attempts = Counter(
            "complaints_notification_attempts_total",
            "Delivery attempts, including retries.",
            ["channel"],
            registry=registry,
        )
        self.suppressed = Counter(
            "complaints_notifications_suppressed_total",
            "Notifications not sent because their key was already taken.",
            registry=registry,
        )
