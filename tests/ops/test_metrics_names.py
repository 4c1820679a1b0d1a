"""The metrics the services really register, and the dashboard's queries against them.

Each service's app is built with in-memory ports and its /metrics page read (see registered.py),
so a metric renamed in code, or a panel querying a name nobody exports, fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from servicekit.metrics import KitMetrics
from tests.ops.promql import metric_names
from tests.ops.registered import (
    REPO,
    SERVICES,
    all_series,
    exposition,
    registered,
    series_names,
)

DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "operations.json"

FASTSTREAM = {
    "faststream_received_messages_total",
    "faststream_received_processed_messages_total",
    "faststream_received_processed_messages_duration_seconds_bucket",
    "faststream_received_processed_messages_exceptions_total",
    "faststream_published_messages_total",
}
KIT = {
    "complaints_messages_processed_total",
    "complaints_dead_letters_total",
    "complaints_batch_retries_total",
    "complaints_batch_size_bucket",
    "complaints_stage_latency_seconds_bucket",
    "complaints_consumer_lag_messages",
    "complaints_service_up",
}
DOMAIN = {  # DOMAIN.md §8, by the service that knows it
    "intake": {
        "complaints_received_total",
        "complaints_accepted_total",
        "complaints_rejected_total",
        "complaints_duplicates_total",
    },
    "classifier": {"complaints_classified_total", "complaints_flags_total"},
    "sla": {
        "complaints_deadlines_set_total",
        "complaints_sla_events_total",
        "complaints_deadlines_met_total",
        "complaints_deadlines_open",
        "complaints_deadlines_overdue",
        "complaints_timely_handling_ratio",
        "complaints_scheduler_lag_seconds_bucket",
    },
    "notifier": {
        "complaints_notifications_total",
        "complaints_notification_latency_seconds_bucket",
    },
}
PANELS = {  # what the operations dashboard must show, and the metric that shows it
    "intake per channel": "complaints_received_total",
    "category and severity mix": "complaints_classified_total",
    "open by level": "complaints_deadlines_open",
    "timely-handling rate": "complaints_timely_handling_ratio",
    "breaches and escalations": "complaints_sla_events_total",
    "notifications": "complaints_notifications_total",
    "consumer lag": "complaints_consumer_lag_messages",
    "scheduler lag": "complaints_scheduler_lag_seconds_bucket",
}


def _dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _exprs() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in _dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_exports_faststream_and_kit_metrics(service: str) -> None:
    names = set(registered()[service])
    assert names >= FASTSTREAM, FASTSTREAM - names
    assert names >= KIT, KIT - names
    assert names >= DOMAIN[service], DOMAIN[service] - names
    assert f'complaints_service_up{{service="{service}"}} 1.0' in exposition(service)


def test_the_page_parser_sees_only_what_is_exported() -> None:
    assert "complaints_received_total" not in registered()["sla"]
    assert "complaints_nonexistent_total" not in all_series()


def test_every_dashboard_query_reads_metrics_that_exist() -> None:
    exported = all_series() | {"up"}
    exprs = _exprs()
    assert len(exprs) >= 20
    for title, expr in exprs:
        used = metric_names(expr)
        assert used, f"{title!r}: {expr!r} reads no metric"
        assert used <= exported, f"{title!r} reads {used - exported}, which no service exports"


def test_the_dashboard_shows_what_operations_watch() -> None:
    used = {name for _, expr in _exprs() for name in metric_names(expr)}
    missing = {concern: metric for concern, metric in PANELS.items() if metric not in used}
    assert not missing


def test_dashboard_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = _dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_the_page_parser_knows_counters_histograms_and_gauges() -> None:
    registry = CollectorRegistry()
    KitMetrics(registry, "probe")
    names = series_names(generate_latest(registry).decode())
    assert names["complaints_dead_letters_total"] == "counter"
    assert names["complaints_stage_latency_seconds_bucket"] == "histogram"
    assert names["complaints_consumer_lag_messages"] == "gauge"
