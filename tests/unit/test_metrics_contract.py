"""The metric names and labels of the issue-4 and issue-10 contracts, as ``shared.metrics``
defines them (the Kafka consumer, the executor and the dashboards all rely on these exact names)."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from shared import metrics

CONTRACT: dict[str, tuple[MetricWrapperBase, str, tuple[str, ...]]] = {
    "lgd_runs": (metrics.RUNS_BY_STATUS, "gauge", ("status",)),
    "lgd_oldest_pending_run_age_seconds": (metrics.OLDEST_PENDING, "gauge", ("tenant",)),
    "lgd_oldest_running_run_age_seconds": (metrics.OLDEST_RUNNING, "gauge", ("tenant",)),
    "lgd_queue_depth": (metrics.QUEUE_DEPTH, "gauge", ("tenant",)),
    "lgd_executor_slots": (metrics.EXECUTOR_SLOTS, "gauge", ("state",)),
    "lgd_runs_finished": (metrics.RUNS_FINISHED, "counter", ("graph_id", "status")),
    "lgd_kafka_up": (metrics.KAFKA_UP, "gauge", ("client",)),
    "lgd_stream_connections": (metrics.STREAM_CONNECTIONS, "gauge", ("kind",)),
    "lgd_http_request_duration_seconds": (
        metrics.HTTP_DURATION,
        "histogram",
        ("method", "route", "code"),
    ),
    "lgd_run_attempt_duration_seconds": (metrics.RUN_DURATION, "histogram", ("outcome",)),
    "lgd_lease_reclaims": (metrics.LEASE_RECLAIMS, "counter", ()),
    "lgd_kafka_consumer_lag": (metrics.KAFKA_CONSUMER_LAG, "gauge", ("topic", "group")),
    "lgd_dead_letters": (metrics.DEAD_LETTERS, "counter", ("topic",)),
    "lgd_database_up": (metrics.DATABASE_UP, "gauge", ()),
}
"""Family name (counters without ``_total``) → (metric object, type, label names)."""


def test_contract_metrics_have_their_names_types_and_labels() -> None:
    registered = {family.name: family.type for family in REGISTRY.collect()}
    for name, (metric, kind, labels) in CONTRACT.items():
        assert registered.get(name) == kind, name
        assert metric._labelnames == labels, name
