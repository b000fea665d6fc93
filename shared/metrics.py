"""Prometheus metrics of lg-deploy (prometheus-client), exposed by every function's
``GET /metrics`` (see :mod:`shared.runtime.ops`).

Names carry the ``lgd_`` prefix; labels are bounded (never an id). Counters and histograms
are per process (``sum`` them across replicas); the gauges that describe the whole system
(runs by status, per-tenant queue depth and ages, database reachability) are read from
PostgreSQL at scrape time by every function alike (take their ``max`` across replicas, never
their sum). ``lgd_webhook_attempts_total`` and ``lgd_webhook_attempt_latency_seconds`` are
defined by the webhooks function (``functions/webhooks/deliverer.py``), ``lgd_builds_total`` by
the builder (``functions/builder/handler.py``).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DATABASE_UP",
    "DEAD_LETTERS",
    "EXECUTOR_SLOTS",
    "HTTP_DURATION",
    "KAFKA_CONSUMER_LAG",
    "KAFKA_HINTS_DROPPED",
    "KAFKA_UP",
    "LEASE_RECLAIMS",
    "OLDEST_PENDING",
    "OLDEST_RUNNING",
    "QUEUE_DEPTH",
    "RUNS_BY_STATUS",
    "RUNS_CREATED",
    "RUNS_FINISHED",
    "RUN_ATTEMPTS",
    "RUN_DURATION",
    "STREAM_CONNECTIONS",
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
QUEUE_DEPTH = Gauge(
    "lgd_queue_depth",
    "Pending runs that are due (claimable once a slot and their thread allow), per tenant"
    " (read at scrape time)",
    ["tenant"],
)
"""Set at scrape time (:func:`shared.runtime.ops.refresh_gauges`): per tenant, the pending runs
whose ``available_at`` has passed (not held back by ``after_seconds`` or a retry's backoff; a
run queued behind another run of its thread counts). A series exists only for a tenant that
has such runs. Unit: runs. Aggregate with ``max`` across replicas (every process reads the same
table), then ``sum`` across tenants."""
OLDEST_PENDING = Gauge(
    "lgd_oldest_pending_run_age_seconds",
    "Seconds the oldest due pending run of the tenant has waited (read at scrape time)",
    ["tenant"],
)
"""Set at scrape time with :data:`QUEUE_DEPTH`, for the same tenants: seconds since the oldest
due pending run became due (``now() - available_at``). Unit: seconds. Aggregate with ``max``
(across replicas and tenants): the backlog-age alert."""
OLDEST_RUNNING = Gauge(
    "lgd_oldest_running_run_age_seconds",
    "Seconds since the longest-running run of the tenant first started (read at scrape time)",
    ["tenant"],
)
"""Set at scrape time with :data:`QUEUE_DEPTH`, for tenants with running runs: seconds since
the oldest running run first started (``now() - started_at``; a reclaimed run keeps its first
start, as its timeout does). Unit: seconds. Aggregate with ``max``: the stuck-run alert."""
DATABASE_UP = Gauge(
    "lgd_database_up",
    "1 when the scrape-time read of PostgreSQL succeeded, else 0 (the run gauges are then NaN)",
)
"""Set at scrape time; on 0 ``lgd_runs`` is NaN and the per-tenant gauges have no series.
Aggregate with ``min`` across replicas for "some function cannot reach PostgreSQL"."""
RUNS_FINISHED = Counter(
    "lgd_runs_finished_total",
    "Runs that reached a final status, by graph and status",
    ["graph_id", "status"],
)
"""Incremented once per run where it reaches a final status (``success``, ``error``,
``timeout``, ``interrupted``): the executor when an attempt ends the run
(:mod:`shared.execution.attempt`) or its sweep gives up on a run whose executors were lost
(``functions/executor/worker.py``), and intake when a cancel ends a run that was still pending
(:mod:`shared.services.runs`; a ``rollback`` deletes it instead, counted nowhere). ``graph_id``
is the run's graph (bounded by the deployment's ``langgraph.json``). Unit: runs. ``sum`` across
replicas; e.g. the run error ratio is ``sum(rate(…{status="error"}[5m])) / sum(rate(…[5m]))``."""
EXECUTOR_SLOTS = Gauge(
    "lgd_executor_slots",
    "Run slots of this executor process, used (runs executing) or free",
    ["state"],
)
"""Read when scraped from the executor of the process (``functions/executor/worker.py``):
``used`` is the runs it executes now, ``free`` what it may still claim (0 while it stops).
Unit: runs. ``sum`` across executors; saturation is ``sum(…{state="free"}) == 0``."""
HTTP_DURATION = Histogram(
    "lgd_http_request_duration_seconds",
    "Seconds from a request's arrival to its response headers, by method, route template and"
    " status code",
    ["method", "route", "code"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
"""Observed by :class:`shared.runtime.http_metrics.RequestMetrics` for every HTTP request a
function serves. ``route`` is the matched route's template (``/threads/{thread_id}/runs``),
``<unmatched>`` when none matches; ``code`` the status code as a string. A streaming response
(SSE, a wait) is measured to its headers, not over its life (see
``lgd_stream_connections``). Unit: seconds. ``sum`` the buckets across replicas, then
``histogram_quantile``; the 5xx ratio is ``sum(rate(…_count{code=~"5.."}[5m])) /
sum(rate(…_count[5m]))``."""
STREAM_CONNECTIONS = Gauge(
    "lgd_stream_connections",
    "Streaming (SSE) responses open in this process, by kind",
    ["kind"],
)
"""Raised when an SSE response starts sending and lowered when it ends for any reason
(``functions/intake/responses.py`` ``sse_response``). ``kind``: ``run`` (a run created with
streaming), ``join`` (joining a run's stream), ``thread`` (a thread's stream), ``a2a`` (A2A
``message/stream``); MCP answers JSON, never a stream. Unit: connections. ``sum`` across
replicas."""
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
KAFKA_UP = Gauge(
    "lgd_kafka_up",
    "1 while this process's Kafka client has a live broker connection, else 0",
    ["client"],
)
"""Read when scraped from the process's Kafka clients: ``client="producer"``
(:mod:`shared.kafka.producer`) and ``client="consumer"`` (every consumer of the process,
:mod:`shared.kafka.consumer`: 1 only while each has one). "Connected" is what aiokafka knows:
one of the client's broker connections is open (a dead broker closes them at once; a client
refreshes its metadata at least every ``METADATA_MAX_AGE_MS``, so it sees a broker come back
within that time). No series while the process has no Kafka client (``lg-deploy dev``).
Aggregate with ``min`` across processes."""
