"""Prometheus metrics of lg-deploy (prometheus-client), exposed by ``GET /metrics``.

Names carry the ``lgd_`` prefix. Counters and histograms are per process; gauges that describe
the whole system (pending runs, oldest pending age) are read from PostgreSQL at scrape time.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "CONTENT_TYPE_LATEST",
    "LEASE_RECLAIMS",
    "OLDEST_PENDING",
    "RUNS_BY_STATUS",
    "RUNS_CREATED",
    "RUN_ATTEMPTS",
    "RUN_DURATION",
    "generate_latest",
]

RUNS_CREATED = Counter("lgd_runs_created_total", "Runs accepted by intake")
RUN_ATTEMPTS = Counter(
    "lgd_run_attempts_total",
    "Executor attempts that ended, by outcome",
    ["outcome"],
)
RUN_DURATION = Histogram(
    "lgd_run_attempt_duration_seconds",
    "Duration of executor attempts, by outcome",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
LEASE_RECLAIMS = Counter(
    "lgd_lease_reclaims_total", "Runs taken back from an executor whose lease expired"
)
RUNS_BY_STATUS = Gauge("lgd_runs", "Runs by status (read at scrape time)", ["status"])
OLDEST_PENDING = Gauge(
    "lgd_oldest_pending_run_age_seconds", "Age of the oldest claimable pending run"
)
