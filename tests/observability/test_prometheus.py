"""A real Prometheus scraping every process of a running ``lg-deploy up``, with the alert rules
the chart ships.

Guarantees: every PromQL expression of the rules and of every dashboard under
``charts/lg-deploy/dashboards/*.json`` parses and evaluates without error against the scraped
metrics, and every metric name it reads exists in the scrape (save :data:`ABSENT_UNTIL_EVENT`);
a run made stuck (running past the stuck-run threshold, lowered through the chart's values)
brings ``LgdStuckRuns`` to ``firing`` for its tenant.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.deploy.tools import REPO
from tests.observability.support import Up
from tests.observability.tools import (
    chart_rule_groups,
    ensure_observability_tools,
    file_rule_groups,
)
from tests.support import free_port

DASHBOARDS = REPO / "charts" / "lg-deploy" / "dashboards"
ABSENT_UNTIL_EVENT = {
    "lgd_kafka_hints_dropped_total": "counted per topic only when a wake-up record is dropped"
    " (Kafka down or the send queue full); the topics are known only then",
}
"""Metric names a dashboard or rule may read that have no series until an event happens."""
STUCK_AFTER_SECONDS = 5
"""The stuck-run threshold (and ``for:``) of this test, set through the chart's values."""
GRAFANA_VARIABLES = re.compile(r"\$\{?(\w+)\}?")
METRIC_NAME = re.compile(r"\blgd_[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def stuck(up: Up) -> Iterator[dict[str, Any]]:
    """On ``up`` (one executor, one slot): a run that succeeded (attempt metrics exist), a run
    that sleeps long (occupies the slot: stuck) and one queued behind it on another thread
    (a backlog); the stuck run, cancelled at the end."""
    with httpx.Client(base_url=up.server.url, timeout=60) as http:
        done = http.post("/runs/wait", json={"assistant_id": "echo", "input": {}})
        assert done.status_code == 200, done.text
        threads = [http.post("/threads", json={}).json()["thread_id"] for _ in range(2)]
        body = {"assistant_id": "slow", "input": {}, "config": {"configurable": {"sleep": 120}}}
        runs = [http.post(f"/threads/{t}/runs", json=body).json() for t in threads]
        yield runs[0]
        for run in runs:
            http.post(f"/threads/{run['thread_id']}/runs/{run['run_id']}/cancel")


@pytest.fixture(scope="module")
def prometheus(up: Up, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus scraping every function of ``up`` each second, evaluating the chart's
    rules (LgdStuckRuns at :data:`STUCK_AFTER_SECONDS`) each second; its base URL."""
    tools = ensure_observability_tools()
    home = tmp_path_factory.mktemp("prometheus")
    groups = chart_rule_groups(
        f"monitoring.prometheusRule.thresholds.LgdStuckRuns={STUCK_AFTER_SECONDS}",
        f"monitoring.prometheusRule.for.LgdStuckRuns={STUCK_AFTER_SECONDS}s",
    )
    (home / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    targets = [url.removeprefix("http://") for url in up.urls.values()]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(home / "rules.yaml")],
        "scrape_configs": [{"job_name": "lg-deploy", "static_configs": [{"targets": targets}]}],
    }
    (home / "prometheus.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (home / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            str(tools.prometheus),
            f"--config.file={home / 'prometheus.yaml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _every_target_up(url, len(targets)), 60, "every target scraped", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _wait(probe: Any, within: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> Any:
    """Poll ``probe`` every half second until it returns something truthy (``proc``, when
    given, must keep running)."""
    deadline = time.monotonic() + within
    while True:
        assert proc is None or proc.poll() is None, "prometheus exited"
        try:
            found = probe()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _every_target_up(url: str, count: int) -> bool:
    targets = httpx.get(url + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return len(targets) == count and all(t["health"] == "up" for t in targets)


def _query(url: str, expr: str) -> dict[str, Any]:
    response = httpx.get(url + "/api/v1/query", params={"query": expr}, timeout=30)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    return body


def _expressions() -> dict[str, str]:
    """Where → PromQL of every rule and every dashboard panel target (Grafana variables made
    concrete: intervals 1m, others match anything)."""
    found = {
        f"rule {r['alert']} #{i}": r["expr"]
        for g in file_rule_groups()
        for i, r in enumerate(g["rules"])
    }
    for path in sorted(DASHBOARDS.glob("*.json")):
        for i, expr in enumerate(_exprs(json.loads(path.read_text()))):
            found[f"{path.name} #{i}"] = GRAFANA_VARIABLES.sub(_concrete, expr)
    return found


def _exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, child in node.items():
            if key == "expr" and isinstance(child, str) and child.strip():
                yield child
            else:
                yield from _exprs(child)
    elif isinstance(node, list):
        for child in node:
            yield from _exprs(child)


def _concrete(variable: re.Match[str]) -> str:
    return "1m" if variable.group(1) in ("__rate_interval", "__interval", "__range") else ".*"


def test_every_rule_and_dashboard_expression_evaluates_on_metrics_that_exist(
    stuck: dict[str, Any], prometheus: str
) -> None:
    # the scrape-time series of the stuck run and the backlog, and a second sample for rates
    scraped = "lgd_queue_depth and on (tenant) lgd_oldest_running_run_age_seconds"
    _wait(
        lambda: _query(prometheus, scraped)["data"]["result"],
        60,
        "the backlog and the running run to be scraped",
    )
    names: set[str] = set()
    for expr in _expressions().values():
        _query(prometheus, expr)  # parses and evaluates, or fails with Prometheus' error
        names |= set(METRIC_NAME.findall(expr))
    missing = {
        name
        for name in names - ABSENT_UNTIL_EVENT.keys()
        if not _query(prometheus, f'count({{__name__="{name}"}})')["data"]["result"]
    }
    assert missing == set(), "read by a rule or dashboard but never scraped"


def test_a_stuck_run_fires_lgd_stuck_runs(stuck: dict[str, Any], prometheus: str) -> None:
    def firing() -> list[dict[str, Any]]:
        alerts = httpx.get(prometheus + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return [
            a
            for a in alerts
            if a["labels"]["alertname"] == "LgdStuckRuns" and a["state"] == "firing"
        ]

    deadline = time.monotonic() + 60
    while not (alerts := firing()):
        assert time.monotonic() < deadline, "LgdStuckRuns never fired"
        time.sleep(0.5)
    [alert] = alerts
    assert alert["labels"]["tenant"] == "default"
    assert alert["labels"]["severity"] == "warning"
    assert alert["annotations"]["runbook_url"].endswith("README.md#lgdstuckruns")
    assert float(alert["value"]) > STUCK_AFTER_SECONDS
