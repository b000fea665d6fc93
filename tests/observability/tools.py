"""The observability backends from ``tests/infra/observability-tools.sh``: Prometheus and
promtool (Jaeger too, for the trace tests), built from the Go module proxy on first use and
cached; and the alert rules the chart ships, as the chart renders them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.render import documents, helm_template, of_kind
from tests.deploy.tools import REPO, ensure_tools
from tests.infra.scripts import install

INSTALL_TIMEOUT_SECONDS = 1800.0
"""A cold build of Prometheus and Jaeger on 2 cores takes minutes; a warm run returns at once."""

RULES = REPO / "charts" / "lg-deploy" / "rules" / "lg-deploy.rules.yaml"
"""The alert rules, as shipped (the chart's PrometheusRule loads this file)."""


@dataclass(frozen=True)
class ObservabilityTools:
    prometheus: Path
    promtool: Path


def ensure_observability_tools() -> ObservabilityTools:
    """Install (or find, when cached) prometheus and promtool; RuntimeError when it fails."""
    paths = install("observability-tools.sh", INSTALL_TIMEOUT_SECONDS)
    return ObservabilityTools(Path(paths["prometheus"]), Path(paths["promtool"]))


def chart_rule_groups(*set_values: str) -> list[dict[str, Any]]:
    """``spec.groups`` of the PrometheusRule the chart renders with
    ``monitoring.prometheusRule.enabled=true`` and ``set_values`` (helm ``--set`` items)."""
    rendered = helm_template(
        ensure_tools(), set_values=("monitoring.prometheusRule.enabled=true", *set_values)
    )
    [rule] = of_kind(documents(rendered), "monitoring.coreos.com/v1", "PrometheusRule")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def file_rule_groups() -> list[dict[str, Any]]:
    """The ``groups`` of :data:`RULES`."""
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups
