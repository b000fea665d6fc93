"""The Grafana dashboards of the chart (``charts/lg-deploy/dashboards``).

Guarantees: the committed JSON is exactly what ``generate.py`` writes (no hand edits); each
dashboard fits the Grafana dashboard schema as grafana-foundation-sdk models it; every panel
says what it shows and what good looks like; every PromQL expression parses (``promtool check
rules`` on one recording rule per expression); every metric an expression or a variable reads
is a metric of the contract (README "Observability") that the functions of ``lg-deploy up``
expose on ``/metrics``, names read from the expressions by Prometheus' own parser
(``/api/v1/parse_query``); the chart ships each dashboard as a ConfigMap for the Grafana sidecar
when ``monitoring.dashboards.enabled`` is set, and none by default.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.render import documents, helm_template
from tests.deploy.tools import ensure_tools
from tests.infra.scripts import install
from tests.observability.grafana_schema import dashboard_errors
from tests.observability.support import Up
from tests.support import ROOT, answers, free_port

FOLDER = ROOT / "charts" / "lg-deploy" / "dashboards"
FILES = sorted(FOLDER.glob("*.json"))
TOOLS_TIMEOUT_SECONDS = 1800.0
"""A cold build of Prometheus, promtool and Jaeger takes minutes on 2 cores."""

CONTRACT = {
    "lgd_runs_created_total": "counter",
    "lgd_run_attempts_total": "counter",
    "lgd_run_attempt_duration_seconds": "histogram",
    "lgd_lease_reclaims_total": "counter",
    "lgd_runs": "gauge",
    "lgd_database_up": "gauge",
    "lgd_kafka_consumer_lag": "gauge",
    "lgd_dead_letters_total": "counter",
    "lgd_kafka_hints_dropped_total": "counter",
    "lgd_webhook_attempts_total": "counter",
    "lgd_webhook_attempt_latency_seconds": "histogram",
    "lgd_builds_total": "counter",
    "lgd_http_request_duration_seconds": "histogram",
    "lgd_queue_depth": "gauge",
    "lgd_oldest_pending_run_age_seconds": "gauge",
    "lgd_oldest_running_run_age_seconds": "gauge",
    "lgd_executor_slots": "gauge",
    "lgd_runs_finished_total": "counter",
    "lgd_kafka_up": "gauge",
    "lgd_stream_connections": "gauge",
}
"""The metric contract of issue 10: name (counters with ``_total``) → type."""

SUBSTITUTIONS = {
    "$__rate_interval": "5m",
    "$__range": "1h",
    "$tenant": ".*",
}
"""Grafana variables of the expressions → what Prometheus gets for them (an "All" tenant)."""

LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


def series_names(name: str, kind: str) -> set[str]:
    """The series names a metric family exposes (a histogram's ``_bucket``/``_count``/
    ``_sum``; a counter's name with ``_total``)."""
    if kind == "histogram":
        return {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    if kind == "counter" and not name.endswith("_total"):
        return {f"{name}_total"}
    return {name}


CONTRACT_SERIES = {s for name, kind in CONTRACT.items() for s in series_names(name, kind)}


def load_generator() -> ModuleType:
    """``charts/lg-deploy/dashboards/generate.py`` as a module (the chart folder is no
    package)."""
    spec = importlib.util.spec_from_file_location("dashboards_generate", FOLDER / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    """File name → parsed JSON of every committed dashboard."""
    return {path.name: json.loads(path.read_text()) for path in FILES}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard that is not a row (rows' own panels included)."""
    for panel in board.get("panels", []):
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def concrete(expr: str) -> str:
    """``expr`` with the Grafana variables replaced as Prometheus would get them."""
    for variable, value in SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def expressions() -> dict[str, str]:
    """``<file>/<panel id>/<refId>`` → the concrete PromQL of every panel query, and
    ``<file>/var/<name>`` → the series selector of every ``label_values`` variable."""
    out: dict[str, str] = {}
    for name, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                out[f"{name}/{panel['id']}/{target['refId']}"] = concrete(target["expr"])
        for variable in board["templating"].get("list", []):
            if variable["type"] == "query":
                match = LABEL_VALUES.match(variable["query"])
                assert match, f"{name}: variable {variable['name']} is not label_values(…)"
                out[f"{name}/var/{variable['name']}"] = concrete(match["selector"])
    return out


def observability_tool(name: str) -> Path:
    """A binary of ``tests/infra/observability-tools.sh`` (built on first use)."""
    return Path(install("observability-tools.sh", TOOLS_TIMEOUT_SECONDS)[name])


# -- generated, schema-valid, documented ----------------------------------------------------


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    rendered = load_generator().render()
    assert sorted(rendered) == [path.name for path in FILES]
    assert {path.name: path.read_text() for path in FILES} == rendered


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_dashboard_fits_the_grafana_dashboard_schema(path: Path) -> None:
    assert dashboard_errors(json.loads(path.read_text())) == []


MUTATIONS = [
    ("panels.1.gridPos.w", "wide", "grid_pos.w"),
    ("panels.1.options.graphMode", "sparkline", "graph_mode"),
    ("panels.1.targets.0.exrp", "up", "exrp"),
    ("panels.1.type", "sta", "no panel plugin"),
    ("templating.list.0.type", "datasrc", "type_val"),
    ("graphTooltip", 7, "graph_tooltip"),
    ("refresh", True, "refresh"),
]


@pytest.mark.parametrize(("path", "value", "reported"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_schema_violation_is_reported(path: str, value: Any, reported: str) -> None:
    board = copy.deepcopy(dashboards()["overview.json"])
    *parents, last = path.split(".")
    node: Any = board
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    assert reported in " ".join(dashboard_errors(board))


def test_dashboards_have_stable_uids_a_datasource_variable_and_tags() -> None:
    boards = dashboards()
    assert {name: board["uid"] for name, board in boards.items()} == {
        "executors.json": "lgd-executors",
        "overview.json": "lgd-overview",
        "runs-and-queue.json": "lgd-runs-queue",
        "webhooks-and-builds.json": "lgd-webhooks-builds",
    }
    for board in boards.values():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert board["tags"] == ["lg-deploy"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_panel_says_what_it_shows_and_what_good_looks_like(path: Path) -> None:
    board = json.loads(path.read_text())
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert "Good:" in panel["description"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]


# -- PromQL: parses, reads only contract metrics the product exposes --------------------------


def promtool_check(exprs: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """``promtool check rules`` on a rule file with one recording rule per expression."""
    rules = [
        {"record": "lgd_dashboard:" + re.sub(r"\W", "_", where), "expr": expr}
        for where, expr in exprs.items()
    ]
    path = folder / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return subprocess.run(
        [str(observability_tool("promtool")), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_expression_parses(tmp_path: Path) -> None:
    exprs = expressions()
    assert {where.split("/")[0] for where in exprs} == {path.name for path in FILES}
    done = promtool_check(exprs, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_refuses_a_broken_expression(tmp_path: Path) -> None:
    done = promtool_check({"broken": "sum by (route (rate(lgd_runs[5m]))"}, tmp_path)
    assert done.returncode != 0


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    """A Prometheus with nothing to scrape, for its parser (``/api/v1/parse_query``)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lgd-promparse-") as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text("global: {}\n")
        proc = subprocess.Popen(
            [
                str(observability_tool("prometheus")),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_served(f"{url}/-/ready")
            yield url
        finally:
            proc.terminate()
            proc.wait(30)


def wait_until_served(url: str, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url, timeout=2.0):
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} not served in {timeout}s")


def selected_names(node: Any) -> set[str]:
    """Metric names of every series selector in a ``parse_query`` syntax tree; a
    ``__name__=~"a|b"`` matcher counts as the names ``a`` and ``b`` (any other regex fails)."""
    if isinstance(node, list):
        return {name for item in node for name in selected_names(item)}
    if not isinstance(node, dict):
        return set()
    names = {name for value in node.values() for name in selected_names(value)}
    if node.get("type") in ("vectorSelector", "matrixSelector"):
        for matcher in node["matchers"]:
            if matcher["name"] != "__name__":
                continue
            assert matcher["type"] in ("=", "=~"), matcher
            alternatives = matcher["value"].split("|")
            assert all(re.fullmatch(r"[a-zA-Z_:][\w:]*", a) for a in alternatives), matcher
            names.update(alternatives)
    return names


@pytest.fixture(scope="module")
def referenced(prometheus_url: str) -> dict[str, set[str]]:
    """``<file>/<panel>/<refId>`` (or ``/var/<name>``) → metric names its expression reads,
    as Prometheus parses it."""
    out = {where: parsed_names(prometheus_url, expr) for where, expr in expressions().items()}
    assert {where for where, names in out.items() if not names} == set()
    return out


def parsed_names(prometheus_url: str, expr: str) -> set[str]:
    """The metric names ``expr`` reads, from Prometheus' syntax tree of it."""
    response = httpx.get(f"{prometheus_url}/api/v1/parse_query", params={"query": expr})
    assert response.status_code == 200, f"{expr}: {response.text}"
    return selected_names(response.json()["data"])


def test_names_are_read_from_every_kind_of_selector(prometheus_url: str) -> None:
    expr = (
        'sum(rate(http_requests_total{code="500"}[5m])) / on() group_left '
        'count({__name__=~"lgd_runs|up"}) or vector(0)'
    )
    assert parsed_names(prometheus_url, expr) == {"http_requests_total", "lgd_runs", "up"}


def test_dashboards_read_only_metrics_of_the_contract(referenced: dict[str, set[str]]) -> None:
    outside = {where: names - CONTRACT_SERIES for where, names in referenced.items()}
    assert {where: names for where, names in outside.items() if names} == {}


def test_every_metric_of_the_contract_is_on_a_dashboard(referenced: dict[str, set[str]]) -> None:
    shown = set().union(*referenced.values())
    missing = [n for n, k in CONTRACT.items() if not series_names(n, k) & shown]
    assert missing == []


@pytest.fixture(scope="module")
def exposed(up: Up) -> set[str]:
    """Series names every process of the session's ``lg-deploy up`` (Kafka, PostgreSQL, one
    process per function) exposes on ``/metrics``, families without samples included."""
    names: set[str] = set()
    for url in up.urls.values():
        text = httpx.get(f"{url}/metrics", timeout=30).text
        for family in text_string_to_metric_families(text):
            names |= series_names(family.name, family.type)
    return names


def test_dashboards_read_only_metrics_lg_deploy_exposes(
    referenced: dict[str, set[str]], exposed: set[str]
) -> None:
    missing = sorted(set().union(*referenced.values()) - exposed)
    assert missing == [], f"not on any /metrics of lg-deploy up: {missing}"


# -- the chart ---------------------------------------------------------------------------------

SIDECAR_LABEL = "grafana_dashboard"


def sidecar_config_maps(*set_values: str) -> list[dict[str, Any]]:
    """The ConfigMaps of ``helm template`` (with ``set_values``) that carry a dashboard."""
    rendered = documents(helm_template(ensure_tools(), set_values=set_values))
    return [
        d for d in rendered if d["kind"] == "ConfigMap" and "-dashboard-" in d["metadata"]["name"]
    ]


def test_the_chart_ships_no_dashboard_by_default() -> None:
    assert sidecar_config_maps() == []


def test_the_chart_ships_each_dashboard_in_a_config_map_for_the_grafana_sidecar() -> None:
    maps = sidecar_config_maps("monitoring.dashboards.enabled=true")
    assert sorted(m["metadata"]["name"] for m in maps) == [
        f"lg-deploy-dashboard-{path.stem}" for path in FILES
    ]
    for config_map in maps:
        assert config_map["metadata"]["labels"][SIDECAR_LABEL] == "1"
        assert config_map["metadata"]["namespace"] == "lg-deploy"
        assert "annotations" not in config_map["metadata"]
        ((name, text),) = config_map["data"].items()
        assert text + "\n" == (FOLDER / name).read_text()


def test_label_namespace_and_folder_are_configurable() -> None:
    maps = sidecar_config_maps(
        "monitoring.dashboards.enabled=true",
        "monitoring.dashboards.namespace=monitoring",
        "monitoring.dashboards.label.name=dashboards",
        "monitoring.dashboards.label.value=lg",
        "monitoring.dashboards.folder=Agents",
        "monitoring.dashboards.folderAnnotation=dashboards-folder",
    )
    assert len(maps) == len(FILES)
    for config_map in maps:
        meta = config_map["metadata"]
        assert meta["namespace"] == "monitoring"
        assert meta["labels"]["dashboards"] == "lg"
        assert SIDECAR_LABEL not in meta["labels"]
        assert meta["annotations"] == {"dashboards-folder": "Agents"}
