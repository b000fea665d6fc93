"""The alert rules the chart ships (``charts/lg-deploy/rules/lg-deploy.rules.yaml``), checked
by the real promtool: they parse (``promtool check rules``) and every alert fires on its
condition and stays silent short of it (``promtool test rules tests/observability/
alerts.test.yaml``). Each alert has a severity, a summary, a description and a runbook section
in the chart README; the chart's PrometheusRule is that very file, with values overriding
thresholds and ``for:`` where asked.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import REPO
from tests.observability.tools import (
    RULES,
    ObservabilityTools,
    chart_rule_groups,
    ensure_observability_tools,
    file_rule_groups,
)

UNIT_TESTS = Path(__file__).with_name("alerts.test.yaml")
README = REPO / "charts" / "lg-deploy" / "README.md"
ALERTS = {
    "LgdStuckRuns",
    "LgdBacklogAge",
    "LgdHighErrorRate",
    "LgdWebhookDeliveryFailures",
    "LgdBuildFailures",
    "LgdDatabaseUnreachable",
    "LgdKafkaUnreachable",
    "LgdExecutorsSaturated",
}


@pytest.fixture(scope="module")
def tools() -> ObservabilityTools:
    return ensure_observability_tools()


def _promtool(tools: ObservabilityTools, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools.promtool), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_rule_file(tools: ObservabilityTools) -> None:
    checked = _promtool(tools, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_passes_its_promtool_unit_tests(tools: ObservabilityTools) -> None:
    tested = _promtool(tools, "test", "rules", str(UNIT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
    assert firing == ALERTS and silent == ALERTS


def test_every_alert_is_labelled_annotated_and_has_a_runbook_section() -> None:
    sections = {
        heading.lower()
        for heading in re.findall(r"^### (\w+)$", README.read_text(), flags=re.MULTILINE)
    }
    rules = [rule for group in file_rule_groups() for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page.endswith("/charts/lg-deploy/README.md") and anchor == rule["alert"].lower()
        assert anchor in sections, f"README has no runbook section for {rule['alert']}"


def test_the_chart_ships_the_rule_file_unchanged_by_default() -> None:
    assert chart_rule_groups() == file_rule_groups()


def test_values_override_an_alerts_threshold_and_for() -> None:
    groups = chart_rule_groups(
        "monitoring.prometheusRule.thresholds.LgdStuckRuns=7200",
        "monitoring.prometheusRule.thresholds.LgdHighErrorRate=0.2",
        "monitoring.prometheusRule.for.LgdStuckRuns=5m",
    )
    shipped = {(r["alert"], r["expr"]): r for g in file_rule_groups() for r in g["rules"]}
    for group in groups:
        for rule in group["rules"]:
            name = rule["alert"]
            if name == "LgdStuckRuns":
                assert rule["expr"] == (
                    "max by (tenant) (lgd_oldest_running_run_age_seconds) > 7200"
                )
                assert rule["for"] == "5m"
            elif name == "LgdHighErrorRate":
                assert rule["expr"].endswith(" > 0.2") and "> 0.05" not in rule["expr"]
            else:
                assert (name, rule["expr"]) in shipped
                assert rule == shipped[(name, rule["expr"])]
