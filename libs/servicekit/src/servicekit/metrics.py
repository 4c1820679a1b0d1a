"""Metrics every service exports, on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class KitMetrics:
    """Delivery metrics: batches, dead letters, retries, stage latency, consumer lag."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.processed = Counter(
            "complaints_messages_processed_total",
            "Messages a service consumed and finished (stored and published).",
            ["service", "topic"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "complaints_dead_letters_total",
            "Messages sent to the dead-letter topic, by reason code.",
            ["service", "reason"],
            registry=registry,
        )
        self.dead_letter_failures = Counter(
            "complaints_dead_letter_failures_total",
            "Dead-letter records the broker refused even without the original bytes: the"
            " message was logged by its coordinates and skipped (alerted; never expected).",
            ["service", "error"],
            registry=registry,
        )
        self.http_shed = Counter(
            "complaints_http_shed_total",
            "API requests answered by the HTTP guard instead of the API: busy (503), timeout"
            " (503), oversize (413), too_many_auth_failures (429), client_gone (cancelled).",
            ["service", "reason"],
            registry=registry,
        )
        self.retries = Counter(
            "complaints_batch_retries_total",
            "Batch retries after a transient failure (MongoDB or Kafka unavailable).",
            ["service", "error"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "complaints_batch_size",
            "Messages per consumed batch.",
            ["service"],
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=registry,
        )
        self.stage_latency = Histogram(
            "complaints_stage_latency_seconds",
            "Time from a consumed record's Kafka timestamp (its publication by the previous"
            " stage) until this stage finished it (stored and published its own events).",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "complaints_consumer_lag_messages",
            "High-water mark minus the group's committed offset, per topic and partition"
            " assigned to this process (refreshed every few seconds).",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self.mongo_commands = Counter(
            "complaints_mongo_commands_total",
            "MongoDB operations by command and collection: each statement of an insert, update"
            " or delete command, one for any other command (what the work costs the database).",
            ["service", "command", "collection"],
            registry=registry,
        )
        self.mongo_single = Counter(
            "complaints_mongo_single_commands_total",
            "MongoDB commands that address one document (a find by `_id` or with limit 1, a"
            " find-and-modify, an update or delete of one statement by `_id`); the rest of"
            " complaints_mongo_commands_total is batched (inserts, `$in` reads, bulk writes).",
            ["service", "command", "collection"],
            registry=registry,
        )
        self.mongo_seconds = Histogram(
            "complaints_mongo_command_seconds",
            "Round trip of one MongoDB command, from sending to its reply.",
            ["service", "command"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
            registry=registry,
        )
        self.up = Gauge(
            "complaints_service_up", "1 while the service runs.", ["service"], registry=registry
        )
        self.up.labels(service).set(1)
