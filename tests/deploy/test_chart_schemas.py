"""The chart renders, every rendered document is valid against the real schemas (Kubernetes,
Knative Serving/Eventing, eventing-kafka, KEDA, prometheus-operator), and a typo anywhere
fails validation."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy.render import (
    CHART,
    KUBE_VERSION,
    VALUES,
    Doc,
    of_kind,
    render_plain,
    stale_plain_files,
)
from tests.deploy.schemas import Validator
from tests.deploy.tools import K8sTools

KSVC = ("serving.knative.dev/v1", "Service")
PING = ("sources.knative.dev/v1", "PingSource")
KAFKA_SOURCE = ("sources.knative.dev/v1", "KafkaSource")
DEPLOYMENT = ("apps/v1", "Deployment")
SCALED_OBJECT = ("keda.sh/v1alpha1", "ScaledObject")
NETWORK_POLICY = ("networking.k8s.io/v1", "NetworkPolicy")
PROMETHEUS_RULE = ("monitoring.coreos.com/v1", "PrometheusRule")
POD_MONITOR = ("monitoring.coreos.com/v1", "PodMonitor")

EVERY_KIND = {
    ("v1", "Namespace"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("node.k8s.io/v1", "RuntimeClass"),
    NETWORK_POLICY,
    KSVC,
    PING,
    KAFKA_SOURCE,
    ("eventing.knative.dev/v1alpha1", "KafkaSink"),
    DEPLOYMENT,
    SCALED_OBJECT,
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    PROMETHEUS_RULE,
    POD_MONITOR,
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_helm_lint_passes(k8s_tools: K8sTools, name: str) -> None:
    args = [str(k8s_tools.helm), "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION]
    for path in VALUES[name]:
        args += ["--values", str(path)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", [*sorted(VALUES), "plain"])
def test_every_rendered_document_is_valid(
    renderings: dict[str, list[Doc]], validator: Validator, name: str
) -> None:
    docs = renderings[name]
    assert docs
    problems = {
        f"{d['kind']}/{d['metadata']['name']}": errors
        for d in docs
        if (errors := validator.errors(d))
    }
    assert problems == {}


def test_every_option_on_renders_every_kind(renderings: dict[str, list[Doc]]) -> None:
    assert {(d["apiVersion"], d["kind"]) for d in renderings["all"]} == EVERY_KIND


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A mutation setting ``value`` at a dotted path (list indexes as numbers)."""
    *parents, last = path.split(".")

    def mutate(doc: Doc) -> None:
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value

    return mutate


TYPOS = [
    (KSVC, "spec.template.spec.timeoutSecond", 3600),
    (KSVC, "spec.template.spec.containers.0.readinesProbe", {}),
    (KSVC, "spec.template.spec.containers.0.securityContext.runAsNonroot", True),
    (KSVC, "spec.template.spec.containers.0.readinessProbe.httpGet.paht", "/ok"),
    (KSVC, "spec.template.metadata.anotations", {}),
    (KSVC, "metadata.lables", {}),
    (PING, "spec.schedul", "* * * * *"),
    (PING, "spec.sink.ref.nmae", "cron"),
    (KAFKA_SOURCE, "spec.consumerGroups", "x"),
    (KAFKA_SOURCE, "spec.delivery.backofDelay", "PT1S"),
    (KAFKA_SOURCE, "spec.delivery.deadLetterSink.ref.kinds", "KafkaSink"),
    (DEPLOYMENT, "spec.template.spec.runtimeClass", "gvisor"),
    (DEPLOYMENT, "spec.template.spec.containers.0.env.0.valueFrm", {}),
    (DEPLOYMENT, "spec.template.spec.securityContext.seccompProfil", {}),
    (SCALED_OBJECT, "spec.minReplicas", 0),
    (SCALED_OBJECT, "spec.triggers.0.metdata", {}),
    (SCALED_OBJECT, "spec.triggers.0.metadata.targetQueryValu", "32"),
    (SCALED_OBJECT, "spec.triggers.1.metadata.lagTreshold", "32"),
    (SCALED_OBJECT, "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.window", 1),
    (NETWORK_POLICY, "spec.policyType", ["Egress"]),
    (NETWORK_POLICY, "spec.egress.0.ports.0.prot", 53),
    (PROMETHEUS_RULE, "spec.groups.0.rules.0.expression", "up == 0"),
    (PROMETHEUS_RULE, "spec.groups.0.rules.0.labels", ["critical"]),
    (POD_MONITOR, "spec.podMetricsEndpoints.0.intervall", "30s"),
    (POD_MONITOR, "spec.selector.matchLabel", {}),
]


@pytest.mark.parametrize(("kind", "path", "value"), TYPOS, ids=[f"{k[1]}:{p}" for k, p, _ in TYPOS])
def test_a_typo_fails_validation(
    renderings: dict[str, list[Doc]],
    validator: Validator,
    kind: tuple[str, str],
    path: str,
    value: Any,
) -> None:
    # the kinds off by default (the prometheus-operator ones) from the all-options rendering
    docs = of_kind(renderings["default"], *kind) or of_kind(renderings["all"], *kind)
    if kind == NETWORK_POLICY:
        docs = [d for d in docs if d["spec"].get("egress")]
    doc = copy.deepcopy(docs[0])
    assert validator.errors(doc) == []
    _set(path, value)(doc)
    errors = validator.errors(doc)
    assert errors, f"{path} was accepted"
    assert path.rpartition(".")[2] in " ".join(errors)


def test_an_unknown_field_fails_in_every_rendered_document(
    renderings: dict[str, list[Doc]], validator: Validator
) -> None:
    accepted = []
    for original in renderings["all"]:
        doc = copy.deepcopy(original)
        holder = doc["spec"] if isinstance(doc.get("spec"), dict) else doc
        holder["typoField"] = 1
        if not any("typoField" in e for e in validator.errors(doc)):
            accepted.append(f"{doc['kind']}/{doc['metadata']['name']}")
    assert accepted == []


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("serving.knative.dev/v1", "Servic"),
        ("serving.knative.dev/v2", "Service"),
        ("keda.sh/v1alpha1", "ScaledJob"),
        ("v1", "ConfigMapp"),
        ("apps/v1", "Deploymnt"),
    ],
)
def test_an_unknown_kind_fails(validator: Validator, api_version: str, kind: str) -> None:
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}}
    assert any("no schema" in e for e in validator.errors(doc))


def test_a_wrong_type_fails(renderings: dict[str, list[Doc]], validator: Validator) -> None:
    doc = copy.deepcopy(of_kind(renderings["default"], *SCALED_OBJECT)[0])
    doc["spec"]["minReplicaCount"] = "zero"
    assert validator.errors(doc)


def test_plain_manifests_are_the_chart_rendering(k8s_tools: K8sTools) -> None:
    """knative/ and keda/ hold exactly what `python -m tests.deploy.render` writes."""
    assert stale_plain_files(render_plain(k8s_tools)) == []
