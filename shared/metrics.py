"""Prometheus metrics of lg-deploy (prometheus-client), exposed by every function's
``GET /metrics`` (see :mod:`shared.runtime.ops`).

Names carry the ``lgd_`` prefix. Counters and histograms are per process (sum them across
replicas); the gauges that describe the whole system (runs by status, oldest pending age,
database reachability) are read from PostgreSQL at scrape time by every function alike (take
their ``max`` across replicas). ``lgd_webhook_attempts_total`` is defined by the webhooks
function (``functions/webhooks/deliverer.py``).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DATABASE_UP",
    "DEAD_LETTERS",
    "KAFKA_CONSUMER_LAG",
    "KAFKA_HINTS_DROPPED",
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
    "Duration of executor attempts, by outcome (the run's status when the attempt ended it)",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
LEASE_RECLAIMS = Counter(
    "lgd_lease_reclaims_total", "Runs taken back from an executor whose lease expired"
)
RUNS_BY_STATUS = Gauge("lgd_runs", "Runs by status (read at scrape time)", ["status"])
OLDEST_PENDING = Gauge(
    "lgd_oldest_pending_run_age_seconds",
    "Age of the oldest claimable pending run, 0 when none (read at scrape time)",
)
DATABASE_UP = Gauge(
    "lgd_database_up",
    "1 when the scrape-time read of PostgreSQL succeeded, else 0 (the run gauges are then NaN)",
)
KAFKA_CONSUMER_LAG = Gauge(
    "lgd_kafka_consumer_lag",
    "Records of a topic not yet committed by this process's consumer group",
    ["topic", "group"],
)
"""Set periodically by each Kafka consumer (``shared/kafka/consumer.py``): the sum, over the
partitions this member holds, of end offset minus committed offset."""
DEAD_LETTERS = Counter(
    "lgd_dead_letters_total",
    "Kafka records moved to the dead-letter topic after failing too many times, by source topic",
    ["topic"],
)
"""Incremented by the Kafka consumer each time it publishes a record to the dead-letter topic;
``topic`` is the topic the record came from."""
KAFKA_HINTS_DROPPED = Counter(
    "lgd_kafka_hints_dropped_total",
    "Wake-up records (run requests, run ends) not sent to Kafka; PostgreSQL still has the work",
    ["topic"],
)
