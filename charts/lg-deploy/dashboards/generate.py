"""Generate the Grafana dashboards of the lg-deploy chart with grafana-foundation-sdk.

Writes one JSON file per dashboard next to this script (``charts/lg-deploy/dashboards/``);
``templates/monitoring/dashboards.yaml`` ships each as a ConfigMap for the Grafana sidecar.
Edit this file, never the JSON, then regenerate::

    .venv/bin/python charts/lg-deploy/dashboards/generate.py          # rewrite the JSON files
    .venv/bin/python charts/lg-deploy/dashboards/generate.py --check  # exit 1 when they differ

Every query reads the metric contract of ``shared/metrics.py`` (README "Observability").
Counters, histograms and per-process gauges are summed across replicas; the gauges every
function reads from PostgreSQL at scrape time (runs by status, queue depth and ages) are taken
with ``max`` across replicas, since each replica reports the same value.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import (
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
)

FOLDER = Path(__file__).resolve().parent
TAG = "lg-deploy"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
TENANT = 'tenant=~"$tenant"'
HELD_OPEN = 'route!~".*/(stream|wait|join)|/a2a/.+|/mcp"'
"""Routes whose requests last as long as a run or a stream (SSE, ``/wait``, ``/join``, A2A and
MCP calls): left out of the latency SLO, since their duration is the run's, not the API's."""

GREEN, AMBER, RED = "green", "orange", "red"


def query(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    """A range query on the dashboard's Prometheus datasource."""
    target = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE).range()
    return target.legend_format(legend) if legend else target


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds: (from value, colour) pairs, the first from ``None`` (minus infinity)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def graph(
    title: str,
    description: str,
    unit: str,
    *targets: prometheus.Dataquery,
    width: int = 12,
) -> timeseries.Panel:
    """A time series panel, its legend a table (last and max value) under the graph."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(8)
        .fill_opacity(10)
        .legend(
            VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.TABLE)
            .placement(LegendPlacement.BOTTOM)
            .calcs(["lastNotNull", "max"])
        )
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def single(
    title: str,
    description: str,
    unit: str,
    expr: str,
    steps: dashboard.ThresholdsConfig,
    *,
    mappings: list[model.ValueMapping] | None = None,
) -> stat.Panel:
    """A stat panel showing the last value of ``expr`` over a sparkline, coloured by
    ``steps``; "No data" when the series is absent."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(4)
        .height(4)
        .graph_mode(BigValueGraphMode.AREA)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
        .thresholds(steps)
        .with_target(query(expr))
    )
    return panel.mappings(mappings) if mappings else panel


UP_DOWN: list[model.ValueMapping] = [
    model.ValueMap(
        options={
            "0": model.ValueMappingResult(text="down", color=RED, index=0),
            "1": model.ValueMappingResult(text="up", color=GREEN, index=1),
        }
    )
]


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """A dashboard with the ``datasource`` variable, links to the other lg-deploy dashboards,
    the last hour shown and a 30 s refresh."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .readonly()
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard.DatasourceVariable("datasource")
            .label("Prometheus")
            .type("prometheus")
            .description("The Prometheus that scrapes the lg-deploy functions")
        )
        .link(
            dashboard.DashboardLink("lg-deploy")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def with_tenant(board: dashboard.Dashboard) -> dashboard.Dashboard:
    """Add the ``tenant`` variable (multi-select, All by default): the tenants that have pending
    or running runs now."""
    return board.with_variable(
        dashboard.QueryVariable("tenant")
        .label("Tenant")
        .description("Tenants with pending or running runs")
        .datasource(DATASOURCE)
        .query(
            "label_values({__name__=~"
            '"lgd_queue_depth|lgd_oldest_pending_run_age_seconds|lgd_oldest_running_run_age_seconds"'
            "}, tenant)"
        )
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(model.VariableOption(selected=True, text="All", value="$__all"))
    )


def overview() -> model.Dashboard:
    """Overview / SLO: is the API answering, are runs succeeding, is work waiting, are the
    database and Kafka reachable."""
    requests = f"lgd_http_request_duration_seconds_count[{RATE}]"
    finished = "lgd_runs_finished_total"
    return (
        base(
            "lgd-overview",
            "lg-deploy / Overview",
            "Service level of lg-deploy: API traffic, errors and latency, run outcomes, "
            "backlog, and reachability of PostgreSQL and Kafka.",
        )
        .with_row(dashboard.Row("Now"))
        .with_panel(
            single(
                "Request rate",
                "HTTP requests per second served by every function (all routes, all codes). "
                "Good: steady and in line with your clients' traffic; a drop to 0 while clients "
                "are active means the API is unreachable.",
                "reqps",
                f"sum(rate({requests}))",
                thresholds((None, GREEN)),
            )
        )
        .with_panel(
            single(
                "5xx ratio",
                "Share of HTTP requests answered with a 5xx status over the last rate window. "
                "Good: 0; above 1 % the API is failing for clients (see the database and "
                "Kafka panels, then the functions' logs).",
                "percentunit",
                f'(sum(rate(lgd_http_request_duration_seconds_count{{code=~"5.."}}[{RATE}])) '
                f"or vector(0)) / sum(rate({requests}))",
                thresholds((None, GREEN), (0.01, AMBER), (0.05, RED)),
            )
        )
        .with_panel(
            single(
                "Run success ratio",
                "Share of runs that ended as success or interrupted (a human-in-the-loop pause "
                "or a cancel) rather than error or timeout, over the time range shown. Good: "
                "close to 100 %; a drop points at a failing graph (see runs by graph in "
                "'lg-deploy / Runs and queue').",
                "percentunit",
                f'sum(increase({finished}{{status=~"success|interrupted"}}[$__range])) '
                f"/ sum(increase({finished}[$__range]))",
                thresholds((None, RED), (0.95, AMBER), (0.99, GREEN)),
            )
        )
        .with_panel(
            single(
                "Queue depth",
                "Claimable pending runs waiting for an executor, all tenants. Good: near 0 "
                "most of the time; a value that keeps growing means executors are saturated "
                "or down.",
                "short",
                "sum(max by (tenant) (lgd_queue_depth)) or vector(0)",
                thresholds((None, GREEN), (50, AMBER), (500, RED)),
            )
        )
        .with_panel(
            single(
                "Oldest pending run",
                "Age of the oldest claimable pending run, any tenant (0 when none). Good: a "
                "few seconds; minutes mean runs wait for a free executor slot.",
                "s",
                "max(lgd_oldest_pending_run_age_seconds) or vector(0)",
                thresholds((None, GREEN), (30, AMBER), (300, RED)),
            )
        )
        .with_panel(
            single(
                "PostgreSQL",
                "Whether every function could read PostgreSQL at its last scrape (the lowest "
                "value across replicas). Good: up; down means runs cannot be created, claimed "
                "or finished.",
                "none",
                "min(lgd_database_up)",
                thresholds((None, RED), (1, GREEN)),
                mappings=UP_DOWN,
            )
        )
        .with_row(dashboard.Row("API"))
        .with_panel(
            graph(
                "Requests by route",
                "HTTP requests per second by route template (`<unmatched>` for paths no route "
                "serves). Good: the routes your clients use, at the rates you expect.",
                "reqps",
                query(f"sum by (route) (rate({requests}))", "{{route}}"),
            )
        )
        .with_panel(
            graph(
                "5xx ratio by route",
                "Share of each route's requests answered with a 5xx status. Good: no series "
                "at all (no 5xx); any line names the failing route.",
                "percentunit",
                query(
                    "sum by (route) (rate(lgd_http_request_duration_seconds_count"
                    f'{{code=~"5.."}}[{RATE}])) / sum by (route) (rate({requests}))',
                    "{{route}}",
                ),
            )
        )
        .with_panel(
            graph(
                "p95 latency by route",
                "95th percentile of request duration by route, without the routes held open "
                "for a run or a stream (`…/stream`, `…/wait`, `…/join`, A2A, MCP), whose "
                "duration is the run's. Good: well under a second for reads and run creation.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (route, le) (rate("
                    f"lgd_http_request_duration_seconds_bucket{{{HELD_OPEN}}}[{RATE}])))",
                    "{{route}}",
                ),
            )
        )
        .with_panel(
            graph(
                "p99 latency by route",
                "99th percentile of request duration by route, held-open routes left out as in "
                "the p95 panel. Good: within a small multiple of p95; a p99 far above p95 "
                "points at database contention or cold starts.",
                "s",
                query(
                    "histogram_quantile(0.99, sum by (route, le) (rate("
                    f"lgd_http_request_duration_seconds_bucket{{{HELD_OPEN}}}[{RATE}])))",
                    "{{route}}",
                ),
            )
        )
        .with_row(dashboard.Row("Runs and dependencies"))
        .with_panel(
            graph(
                "Run outcomes",
                "Runs reaching a final status per second, by status. Good: mostly success; "
                "error or timeout lines deserve a look at the failing graph's logs.",
                "ops",
                query(f"sum by (status) (rate({finished}[{RATE}]))", "{{status}}"),
            )
        )
        .with_panel(
            graph(
                "Run success ratio",
                "Share of finished runs that ended as success or interrupted, per rate window. "
                "Good: flat near 100 %.",
                "percentunit",
                query(
                    f'sum(rate({finished}{{status=~"success|interrupted"}}[{RATE}])) '
                    f"/ sum(rate({finished}[{RATE}]))",
                    "success ratio",
                ),
            )
        )
        .with_panel(
            graph(
                "Backlog",
                "Claimable pending runs (all tenants) and the age of the oldest one. Good: "
                "both near 0; a rising age with a flat depth means one tenant is starved.",
                "short",
                query("sum(max by (tenant) (lgd_queue_depth)) or vector(0)", "queue depth"),
                query(
                    "max(lgd_oldest_pending_run_age_seconds) or vector(0)",
                    "oldest pending (s)",
                    "B",
                ),
            )
        )
        .with_panel(
            graph(
                "PostgreSQL and Kafka reachability",
                "1 while every function reaches PostgreSQL (lowest across replicas) and while "
                "every process's Kafka producer and consumer are connected (lowest per client; "
                "no Kafka line without Kafka, e.g. `lg-deploy dev`). Good: all lines at 1.",
                "none",
                query("min(lgd_database_up)", "postgresql"),
                query("min by (client) (lgd_kafka_up)", "kafka {{client}}", "B"),
            )
        )
        .build()
    )


def runs_and_queue() -> model.Dashboard:
    """Runs and queue: where runs are, how they end, what waits and for how long."""
    duration = f"lgd_run_attempt_duration_seconds_bucket[{RATE}]"
    return (
        with_tenant(
            base(
                "lgd-runs-queue",
                "lg-deploy / Runs and queue",
                "Runs by status, creation and completion rates, attempt durations, the queue "
                "of pending runs per tenant, lease reclaims and dead letters.",
            )
        )
        .with_row(dashboard.Row("Runs"))
        .with_panel(
            graph(
                "Runs by status",
                "Runs stored in PostgreSQL by status, read at scrape time. Good: pending and "
                "running small and bounded; success grows; error stays a small share.",
                "short",
                query("max by (status) (lgd_runs)", "{{status}}"),
            )
        )
        .with_panel(
            graph(
                "Runs created",
                "Runs accepted by intake per second (all tenants). Good: follows client "
                "traffic; compare with the finish rate: a lasting gap fills the queue.",
                "ops",
                query(f"sum(rate(lgd_runs_created_total[{RATE}]))", "created"),
                query(f"sum(rate(lgd_runs_finished_total[{RATE}]))", "finished", "B"),
            )
        )
        .with_panel(
            graph(
                "Runs finished by graph and status",
                "Runs reaching a final status per second, by the assistant's graph and the "
                "status. Good: each graph mostly success; a graph with error or timeout lines "
                "is the one to debug.",
                "ops",
                query(
                    f"sum by (graph_id, status) (rate(lgd_runs_finished_total[{RATE}]))",
                    "{{graph_id}} {{status}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Attempts by outcome",
                "Executor attempts that ended per second, by outcome (a run may take several "
                "attempts after a crash or lease loss). Good: close to the finish rate; many "
                "more attempts than finished runs means executors die mid-run.",
                "ops",
                query(f"sum by (outcome) (rate(lgd_run_attempts_total[{RATE}]))", "{{outcome}}"),
            )
        )
        .with_panel(
            graph(
                "Attempt duration by outcome",
                "Median, 95th and 99th percentile of executor attempt duration by outcome. "
                "Good: stable for a given workload; a p99 near the run timeout means runs are "
                "about to time out.",
                "s",
                query(
                    f"histogram_quantile(0.5, sum by (outcome, le) (rate({duration})))",
                    "p50 {{outcome}}",
                ),
                query(
                    f"histogram_quantile(0.95, sum by (outcome, le) (rate({duration})))",
                    "p95 {{outcome}}",
                    "B",
                ),
                query(
                    f"histogram_quantile(0.99, sum by (outcome, le) (rate({duration})))",
                    "p99 {{outcome}}",
                    "C",
                ),
                width=24,
            )
        )
        .with_row(dashboard.Row("Queue per tenant"))
        .with_panel(
            graph(
                "Queue depth",
                "Claimable pending runs per tenant (a tenant without pending runs has no "
                "line). Good: near 0 and short-lived; one tenant growing alone has reached its "
                "concurrency limit.",
                "short",
                query(f"max by (tenant) (lgd_queue_depth{{{TENANT}}})", "{{tenant}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Oldest pending run",
                "Age of each tenant's oldest claimable pending run. Good: seconds; minutes "
                "mean the tenant's runs wait for a slot (backlog alert).",
                "s",
                query(
                    f"max by (tenant) (lgd_oldest_pending_run_age_seconds{{{TENANT}}})",
                    "{{tenant}}",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Oldest running run",
                "Seconds since each tenant's longest-running run started running. Good: "
                "below the graphs' expected duration; a line that only climbs is a stuck run "
                "(stuck-runs alert).",
                "s",
                query(
                    f"max by (tenant) (lgd_oldest_running_run_age_seconds{{{TENANT}}})",
                    "{{tenant}}",
                ),
                width=8,
            )
        )
        .with_row(dashboard.Row("Recovery"))
        .with_panel(
            graph(
                "Lease reclaims",
                "Runs taken back from an executor whose lease expired, per rate window (the "
                "executor crashed, was killed or lost PostgreSQL). Good: 0; reclaims during "
                "a rollout are expected, steady ones are not.",
                "short",
                query(f"sum(increase(lgd_lease_reclaims_total[{RATE}]))", "reclaims"),
            )
        )
        .with_panel(
            graph(
                "Dead letters by topic",
                "Kafka records moved to the dead-letter topic after failing too often, per "
                "rate window, by source topic. Good: 0; any value is an event that could not "
                "be handled (read the dead-letter topic).",
                "short",
                query(f"sum by (topic) (increase(lgd_dead_letters_total[{RATE}]))", "{{topic}}"),
            )
        )
        .build()
    )


def executors() -> model.Dashboard:
    """Executors and scaling: capacity, how much of it is used, and what feeds it."""
    slots = "lgd_executor_slots"
    return (
        base(
            "lgd-executors",
            "lg-deploy / Executors and scaling",
            "Executor slots used and free, utilisation, backlog against capacity, Kafka "
            "consumer lag and reachability, dropped wake-ups and open streams.",
        )
        .with_row(dashboard.Row("Capacity now"))
        .with_panel(
            single(
                "Executors",
                "Executor processes reporting slots. Good: at least the minimum you set; 0 "
                "with work queued means KEDA has not scaled up yet or executors cannot start.",
                "short",
                f'count({slots}{{state="used"}}) or vector(0)',
                thresholds((None, RED), (1, GREEN)),
            )
        )
        .with_panel(
            single(
                "Slots used",
                "Run slots busy across every executor. Good: below the total; equal to it "
                "means new runs queue.",
                "short",
                f'sum({slots}{{state="used"}}) or vector(0)',
                thresholds((None, GREEN)),
            )
        )
        .with_panel(
            single(
                "Slots free",
                "Run slots idle across every executor. Good: above 0 whenever runs are "
                "pending; 0 with a queue means executors are saturated.",
                "short",
                f'sum({slots}{{state="free"}}) or vector(0)',
                thresholds((None, AMBER), (1, GREEN)),
            )
        )
        .with_panel(
            single(
                "Utilisation",
                "Share of all executor slots in use. Good: below 80 %; sustained above 95 % "
                "means the executors are saturated (raise the replica cap or slots).",
                "percentunit",
                f'sum({slots}{{state="used"}}) / sum({slots})',
                thresholds((None, GREEN), (0.8, AMBER), (0.95, RED)),
            )
        )
        .with_panel(
            single(
                "Open streams",
                "Streaming responses (SSE) open across every process, all kinds. Good: "
                "follows the clients streaming; a count that only grows hints at clients "
                "that never disconnect.",
                "short",
                "sum(lgd_stream_connections) or vector(0)",
                thresholds((None, GREEN)),
            )
        )
        .with_panel(
            single(
                "Kafka clients down",
                "Kafka producers and consumers not connected, across processes (No data "
                "without Kafka). Good: 0.",
                "short",
                "sum(1 - lgd_kafka_up)",
                thresholds((None, GREEN), (1, RED)),
            )
        )
        .with_row(dashboard.Row("Slots"))
        .with_panel(
            graph(
                "Slots used and free",
                "Executor run slots by state, summed across executors. Good: free above 0 "
                "while runs are pending.",
                "short",
                query(f"sum by (state) ({slots})", "{{state}}"),
            )
        )
        .with_panel(
            graph(
                "Utilisation",
                "Share of executor slots in use, overall and per executor process "
                "(instance). Good: below 80 % overall, evenly spread.",
                "percentunit",
                query(f'sum({slots}{{state="used"}}) / sum({slots})', "all executors"),
                query(
                    f'sum by (instance) ({slots}{{state="used"}}) / sum by (instance) ({slots})',
                    "{{instance}}",
                    "B",
                ),
            )
        )
        .with_panel(
            graph(
                "Backlog against free slots",
                "Claimable pending runs (all tenants) next to the free executor slots. Good: "
                "pending at 0, or below free slots for a moment only; pending above free "
                "slots for long is the signal to scale out.",
                "short",
                query("sum(max by (tenant) (lgd_queue_depth)) or vector(0)", "pending"),
                query(f'sum({slots}{{state="free"}}) or vector(0)', "free slots", "B"),
                width=24,
            )
        )
        .with_row(dashboard.Row("Kafka and streams"))
        .with_panel(
            graph(
                "Kafka consumer lag",
                "Records not yet committed by each consumer group, by topic (summed over the "
                "group's members). Good: near 0; a growing lag means the consumers fall "
                "behind (PostgreSQL still holds the work; wake-ups arrive late).",
                "short",
                query("sum by (topic, group) (lgd_kafka_consumer_lag)", "{{group}} / {{topic}}"),
            )
        )
        .with_panel(
            graph(
                "Kafka wake-ups dropped",
                "Wake-up records (run requests, run ends) not sent to Kafka, per rate window, "
                "by topic. Good: 0; runs still start (PostgreSQL is the queue) but later, "
                "on the executor's poll.",
                "short",
                query(
                    f"sum by (topic) (increase(lgd_kafka_hints_dropped_total[{RATE}]))",
                    "{{topic}}",
                ),
            )
        )
        .with_panel(
            graph(
                "Kafka clients connected",
                "Per client kind, the lowest connection state across processes (1 connected, "
                "0 not). Good: 1 for producer and consumer.",
                "none",
                query("min by (client) (lgd_kafka_up)", "{{client}}"),
            )
        )
        .with_panel(
            graph(
                "Stream connections by kind",
                "Open streaming responses (SSE) by kind (run, join, thread, A2A, MCP), summed "
                "across processes. Good: matches the clients you expect to be streaming.",
                "short",
                query("sum by (kind) (lgd_stream_connections)", "{{kind}}"),
            )
        )
        .build()
    )


def webhooks_and_builds() -> model.Dashboard:
    """Webhooks and builds: delivery outcomes and latency, build outcomes."""
    attempts = "lgd_webhook_attempts_total"
    latency = f"lgd_webhook_attempt_latency_seconds_bucket[{RATE}]"
    return (
        base(
            "lgd-webhooks-builds",
            "lg-deploy / Webhooks and builds",
            "Run-end webhook delivery attempts, failures and latency; builds by status.",
        )
        .with_row(dashboard.Row("Over the time range"))
        .with_panel(
            single(
                "Webhooks given up",
                "Webhook deliveries abandoned after their last retry, over the time range "
                "shown. Good: 0; each one is a receiver that never heard of a run's end.",
                "short",
                f'sum(increase({attempts}{{outcome="failed"}}[$__range])) or vector(0)',
                thresholds((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            single(
                "Webhook attempts retried",
                "Share of webhook attempts that failed and were scheduled again, over the "
                "time range shown. Good: under a few percent; more means a receiver is slow "
                "or erroring.",
                "percentunit",
                f'(sum(increase({attempts}{{outcome="retry"}}[$__range])) or vector(0)) '
                f"/ sum(increase({attempts}[$__range]))",
                thresholds((None, GREEN), (0.05, AMBER), (0.25, RED)),
            )
        )
        .with_panel(
            single(
                "Builds failed",
                "Builds that ended as failed over the time range shown. Good: 0; read the "
                "build's log through the API for the reason.",
                "short",
                'sum(increase(lgd_builds_total{status="failed"}[$__range])) or vector(0)',
                thresholds((None, GREEN), (1, RED)),
            )
        )
        .with_row(dashboard.Row("Webhooks"))
        .with_panel(
            graph(
                "Webhook attempts by outcome",
                "Webhook delivery attempts per second by outcome: delivered, retry (failed, "
                "will be tried again) and failed (given up). Good: delivered only.",
                "ops",
                query(f"sum by (outcome) (rate({attempts}[{RATE}]))", "{{outcome}}"),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Webhook failure rate",
                "Share of attempts that failed (retry or given up) and share of deliveries "
                "given up (failed over delivered plus failed), per rate window. Good: both 0.",
                "percentunit",
                query(
                    f'(sum(rate({attempts}{{outcome=~"retry|failed"}}[{RATE}])) or vector(0)) '
                    f"/ sum(rate({attempts}[{RATE}]))",
                    "attempts failed",
                ),
                query(
                    f'(sum(rate({attempts}{{outcome="failed"}}[{RATE}])) or vector(0)) '
                    f'/ sum(rate({attempts}{{outcome=~"delivered|failed"}}[{RATE}]))',
                    "deliveries given up",
                    "B",
                ),
                width=8,
            )
        )
        .with_panel(
            graph(
                "Webhook latency",
                "Median, 95th and 99th percentile of the time from a webhook POST to the "
                "receiver's answer. Good: well under the delivery timeout; a p99 near it "
                "turns into retries.",
                "s",
                query(f"histogram_quantile(0.5, sum by (le) (rate({latency})))", "p50"),
                query(f"histogram_quantile(0.95, sum by (le) (rate({latency})))", "p95", "B"),
                query(f"histogram_quantile(0.99, sum by (le) (rate({latency})))", "p99", "C"),
                width=8,
            )
        )
        .with_row(dashboard.Row("Builds"))
        .with_panel(
            graph(
                "Builds by status",
                "Builds that ended per rate window, by status (succeeded, failed). Good: "
                "succeeded only.",
                "short",
                query(f"sum by (status) (increase(lgd_builds_total[{RATE}]))", "{{status}}"),
                width=24,
            )
        )
        .build()
    )


DASHBOARDS: dict[str, Callable[[], model.Dashboard]] = {
    "overview.json": overview,
    "runs-and-queue.json": runs_and_queue,
    "executors.json": executors,
    "webhooks-and-builds.json": webhooks_and_builds,
}
"""File name → builder of each dashboard the chart ships."""


def numbered(board: model.Dashboard) -> model.Dashboard:
    """``board`` with its panels numbered 1, 2… in order (stable ids Grafana keeps)."""
    for number, panel in enumerate(board.panels or [], start=1):
        panel.id_val = number
    return board


def render() -> dict[str, str]:
    """File name → JSON text (2-space indent, sorted keys, final newline) of every dashboard."""
    return {
        name: json.dumps(numbered(build()), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
        for name, build in DASHBOARDS.items()
    }


def stale(rendered: dict[str, str]) -> list[str]:
    """JSON files of :data:`FOLDER` that are missing, differ from ``rendered`` or should not
    exist."""
    present = {path.name for path in FOLDER.glob("*.json")}
    extra = sorted(present - rendered.keys())
    differ = [
        name
        for name, text in sorted(rendered.items())
        if not (FOLDER / name).is_file() or (FOLDER / name).read_text() != text
    ]
    return extra + differ


def main(argv: list[str] | None = None) -> int:
    """Rewrite the dashboard JSON files (with ``--check``, list the stale ones; exit 1 if any)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    rendered = render()
    outdated = stale(rendered)
    if args.check:
        for name in outdated:
            print(f"stale: {FOLDER / name}")
        return 1 if outdated else 0
    for path in FOLDER.glob("*.json"):
        if path.name not in rendered:
            path.unlink()
    for name, text in rendered.items():
        (FOLDER / name).write_text(text)
    print(f"wrote {len(rendered)} dashboards; {len(outdated)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
