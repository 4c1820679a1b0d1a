"""Metrics every service exports, on the service's own registry."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

POISON_REASONS = (
    "processing_error",
    "invalid_event",
    "implausible_time",
    "oversized_document",
    "oversized_event",
)
"""Dead-letter reasons `ComplaintsPoisonMessages` alerts on (deploy/prometheus/rules/pipeline.yml):
their series exist at 0 from the start, so the first one after a start is an increase."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Instruments:
    """Counters, gauges and histograms on one registry, latency buckets unless told."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        """A counter on this registry."""
        return Counter(name, doc, labels, registry=self.registry)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge on this registry."""
        return Gauge(name, doc, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        """A histogram on this registry (latency buckets unless told)."""
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)


class KitMetrics:
    """Delivery metrics: batches, dead letters, retries, stage latency, consumer lag."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        kit = Instruments(registry)
        self.service = service
        self.processed = kit.counter(
            "complaints_messages_processed_total",
            "Messages a service consumed and finished (stored and published).",
            ["service", "topic"],
        )
        self.published = kit.counter(
            "complaints_messages_published_total",
            "Events a service published and the broker acknowledged, by topic (they go to the"
            " producer directly, not through FastStream's publish path and its metrics).",
            ["service", "topic"],
        )
        self.dead_lettered = kit.counter(
            "complaints_dead_letters_total",
            "Messages sent to the dead-letter topic, by reason code.",
            ["service", "reason"],
        )
        for reason in POISON_REASONS:
            self.dead_lettered.labels(service, reason)
        self.dead_letter_failures = kit.counter(
            "complaints_dead_letter_failures_total",
            "Dead-letter records the broker refused even without the original bytes: the"
            " message was logged by its coordinates and skipped (alerted; never expected).",
            ["service", "error"],
        )
        self.http_shed = kit.counter(
            "complaints_http_shed_total",
            "API requests answered by the HTTP guard instead of the API: busy (503), timeout"
            " (503), oversize (413), too_many_auth_failures (429), client_gone (cancelled).",
            ["service", "reason"],
        )
        self.retries = kit.counter(
            "complaints_batch_retries_total",
            "Batch retries after a transient failure (MongoDB or Kafka unavailable).",
            ["service", "error"],
        )
        self.batch_size = kit.histogram(
            "complaints_batch_size",
            "Messages per consumed batch.",
            ["service"],
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
        )
        self.stage_latency = kit.histogram(
            "complaints_stage_latency_seconds",
            "Time from a consumed record's Kafka timestamp (its publication by the previous"
            " stage) until this stage finished it (stored and published its own events).",
            ["service"],
        )
        self.consumer_lag = kit.gauge(
            "complaints_consumer_lag_messages",
            "High-water mark minus the group's committed offset, per topic and partition"
            " assigned to this process (refreshed every few seconds).",
            ["service", "topic", "partition"],
        )
        self.mongo_commands = kit.counter(
            "complaints_mongo_commands_total",
            "MongoDB operations by command and collection: each statement of an insert, update"
            " or delete command, one for any other command (what the work costs the database).",
            ["service", "command", "collection"],
        )
        self.mongo_single = kit.counter(
            "complaints_mongo_single_commands_total",
            "MongoDB commands that address one document (a find by `_id` or with limit 1, a"
            " find-and-modify, an update or delete of one statement by `_id`); the rest of"
            " complaints_mongo_commands_total is batched (inserts, `$in` reads, bulk writes).",
            ["service", "command", "collection"],
        )
        self.mongo_seconds = kit.histogram(
            "complaints_mongo_command_seconds",
            "Round trip of one MongoDB command, from sending to its reply.",
            ["service", "command"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
        )
        self.up = kit.gauge("complaints_service_up", "1 while the service runs.", ["service"])
        self.up.labels(service).set(1)
