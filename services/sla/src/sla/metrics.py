"""SLA service's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from contracts import ClockName, Severity, SlaEventKind
from servicekit.metrics import Instruments

LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class SlaMetrics:
    """Deadlines set, warnings, breaches, escalations, upgrades, met, scheduler lag."""

    def __init__(self, registry: CollectorRegistry) -> None:
        kit = Instruments(registry)
        self.deadlines_set = kit.counter(
            "complaints_deadlines_set_total",
            "Deadlines started, by clock and severity.",
            ["clock", "severity"],
        )
        self.fired = kit.counter(
            "complaints_sla_events_total",
            "Warnings, breaches, escalations and upgrades fired.",
            ["event", "clock", "severity"],
        )
        # Every clock's breach series exists from the start, at 0. A counter series that first
        # appears with its value shows Prometheus no increase, so the first breaches after a
        # start, if one scrape saw them all, never fired `ComplaintsSlaBreached` (increase()).
        for clock in ClockName:
            for severity in Severity:
                self.fired.labels(SlaEventKind.BREACHED.value, clock.value, severity.value)
        self.met = kit.counter(
            "complaints_deadlines_met_total",
            "Clocks stopped in time or late, by clock and outcome.",
            ["clock", "outcome"],
        )
        self.scheduler_lag = kit.histogram(
            "complaints_scheduler_lag_seconds",
            "Fired time minus due time of each threshold (business seconds).",
            buckets=LAG_BUCKETS,
        )
        self.lifecycle = kit.counter(
            "complaints_lifecycle_actions_total",
            "Staff actions applied or refused, by action and outcome.",
            ["action", "outcome"],
        )
        self.staff_actions = kit.counter(
            "complaints_case_api_actions_total",
            "Staff actions the case API published, by action (each one is logged at debug only).",
            ["action"],
        )
        self.review_flags = kit.counter(
            "complaints_complainant_review_flags_total",
            "Complainants flagged for human review (3 baseless in 365 days, or malicious).",
        )
        self.open = kit.gauge(
            "complaints_deadlines_open",
            "Running deadlines by clock and severity (census from MongoDB).",
            ["clock", "severity"],
        )
        self.overdue = kit.gauge(
            "complaints_deadlines_overdue",
            "Running deadlines already past their due time, by clock and severity (census).",
            ["clock", "severity"],
        )
        self.timely = kit.gauge(
            "complaints_timely_handling_ratio",
            "Clocks met on time / (met + running past due), by clock (census from MongoDB).",
            ["clock"],
        )
        self.calendar_fallback = kit.counter(
            "complaints_calendar_fallback_total",
            "Deadlines computed on the weekends-only fallback (year without holiday data).",
            ["year"],
        )
