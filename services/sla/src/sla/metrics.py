"""SLA service's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class SlaMetrics:
    """Deadlines set, warnings, breaches, escalations, upgrades, met, scheduler lag."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deadlines_set = Counter(
            "complaints_deadlines_set_total",
            "Deadlines started, by clock and severity.",
            ["clock", "severity"],
            registry=registry,
        )
        self.fired = Counter(
            "complaints_sla_events_total",
            "Warnings, breaches, escalations and upgrades fired.",
            ["event", "clock", "severity"],
            registry=registry,
        )
        self.met = Counter(
            "complaints_deadlines_met_total",
            "Clocks stopped in time or late, by clock and outcome.",
            ["clock", "outcome"],
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "complaints_scheduler_lag_seconds",
            "Fired time minus due time of each threshold (business seconds).",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.lifecycle = Counter(
            "complaints_lifecycle_actions_total",
            "Staff actions applied or refused, by action and outcome.",
            ["action", "outcome"],
            registry=registry,
        )
        self.staff_actions = Counter(
            "complaints_case_api_actions_total",
            "Staff actions the case API published, by action (each one is logged at debug only).",
            ["action"],
            registry=registry,
        )
        self.review_flags = Counter(
            "complaints_complainant_review_flags_total",
            "Complainants flagged for human review (3 baseless in 365 days, or malicious).",
            registry=registry,
        )
        self.open = Gauge(
            "complaints_deadlines_open",
            "Running deadlines by clock and severity (census from MongoDB).",
            ["clock", "severity"],
            registry=registry,
        )
        self.overdue = Gauge(
            "complaints_deadlines_overdue",
            "Running deadlines already past their due time, by clock and severity (census).",
            ["clock", "severity"],
            registry=registry,
        )
        self.timely = Gauge(
            "complaints_timely_handling_ratio",
            "Clocks met on time / (met + running past due), by clock (census from MongoDB).",
            ["clock"],
            registry=registry,
        )
        self.calendar_fallback = Counter(
            "complaints_calendar_fallback_total",
            "Deadlines computed on the weekends-only fallback (year without holiday data).",
            ["year"],
            registry=registry,
        )
