"""The rendered manifests have the properties the design needs: gVisor and Pod Security
"restricted" on every pod, no service-account token, executors scaled by KEDA on pending +
running runs down to zero, deny-by-default egress, event sources on the contract's topics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.podsecurity import restricted_violations
from tests.deploy.render import CHART, HERE, Doc, by_name, of_kind

DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())
ALL = yaml.safe_load((HERE / "values-all.yaml").read_text())
RENDERED = ["default", "all", "plain"]
"""Renderings with every component on (minimal turns things off on purpose)."""

KSVC = ("serving.knative.dev/v1", "Service")
KNATIVE_FUNCTIONS = ("intake", "cron", "webhooks", "builder")


def _pods(docs: list[Doc]) -> dict[str, dict[str, Any]]:
    """name of the workload → its pod template (Knative Services and Deployments)."""
    workloads = of_kind(docs, *KSVC) + of_kind(docs, "apps/v1", "Deployment")
    return {d["metadata"]["name"]: d["spec"]["template"] for d in workloads}


def _env(container: dict[str, Any]) -> dict[str, Any]:
    """name → value (or valueFrom) of a container's environment; later entries win."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _prefix(name: str) -> str:
    return "prod.lg." if name == "all" else "lg-deploy."


def _fullname(name: str) -> str:
    return "agents" if name == "all" else "lg-deploy"


@pytest.mark.parametrize("name", RENDERED)
def test_every_function_is_rendered(renderings: dict[str, list[Doc]], name: str) -> None:
    full = _fullname(name)
    expected = {f"{full}-{f}" for f in (*KNATIVE_FUNCTIONS, "executor")}
    assert set(_pods(renderings[name])) == expected


@pytest.mark.parametrize("name", RENDERED)
def test_every_pod_runs_in_gvisor(renderings: dict[str, list[Doc]], name: str) -> None:
    pods = _pods(renderings[name])
    assert {n: p["spec"].get("runtimeClassName") for n, p in pods.items()} == dict.fromkeys(
        pods, "gvisor"
    )


def test_the_runtime_class_uses_runsc(renderings: dict[str, list[Doc]]) -> None:
    runtime_class = of_kind(renderings["all"], "node.k8s.io/v1", "RuntimeClass")[0]
    assert (runtime_class["metadata"]["name"], runtime_class["handler"]) == ("gvisor", "runsc")


@pytest.mark.parametrize("name", [*RENDERED, "minimal"])
def test_every_pod_satisfies_pod_security_restricted(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    pods = _pods(renderings[name])
    assert pods
    violations = {n: restricted_violations(p["spec"]) for n, p in pods.items()}
    assert {n: v for n, v in violations.items() if v} == {}


@pytest.mark.parametrize("name", ["all", "plain"])
def test_the_namespace_enforces_restricted(renderings: dict[str, list[Doc]], name: str) -> None:
    labels = of_kind(renderings[name], "v1", "Namespace")[0]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


@pytest.mark.parametrize("name", RENDERED)
def test_no_pod_mounts_a_service_account_token(renderings: dict[str, list[Doc]], name: str) -> None:
    docs = renderings[name]
    for pod in _pods(docs).values():
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert not any("projected" in v for v in pod["spec"].get("volumes", []))
    account = of_kind(docs, "v1", "ServiceAccount")[0]
    assert account["automountServiceAccountToken"] is False
    assert {p["spec"]["serviceAccountName"] for p in _pods(docs).values()} == {
        account["metadata"]["name"]
    }


@pytest.mark.parametrize("name", RENDERED)
def test_every_container_follows_the_contract(renderings: dict[str, list[Doc]], name: str) -> None:
    for workload, pod in _pods(renderings[name]).items():
        (container,) = pod["spec"]["containers"]
        function = workload.rsplit("-", 1)[1]
        assert container["command"] == ["lg-deploy", function]
        env = _env(container)
        assert (env["LG_DEPLOY_HOST"], env["LG_DEPLOY_PORT"]) == ("0.0.0.0", "8080")
        assert "secretKeyRef" in env["LG_DEPLOY_DATABASE_URL"]
        assert env["LG_DEPLOY_KAFKA_TOPIC_PREFIX"] == _prefix(name)
        assert env["LG_DEPLOY_KAFKA_BOOTSTRAP"]
        assert [p["containerPort"] for p in container["ports"]] == [8080]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/ok", "port": 8080}


@pytest.mark.parametrize(("name", "required"), [("default", "true"), ("minimal", "false")])
def test_api_keys_are_required_unless_turned_off(
    renderings: dict[str, list[Doc]], name: str, required: str
) -> None:
    (container,) = _pods(renderings[name])[f"{_fullname(name)}-intake"]["spec"]["containers"]
    assert _env(container)["LG_DEPLOY_REQUIRE_API_KEY"] == required


@pytest.mark.parametrize("name", RENDERED)
def test_knative_services_scale_to_zero_and_take_events_over_http(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    for ksvc in of_kind(renderings[name], *KSVC):
        template = ksvc["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
        function = ksvc["metadata"]["name"].rsplit("-", 1)[1]
        expected_min = "1" if (name, function) == ("all", "intake") else "0"
        assert annotations["autoscaling.knative.dev/min-scale"] == expected_min
        (container,) = template["spec"]["containers"]
        assert _env(container)["LG_DEPLOY_KAFKA_CONSUMER"] == "false"
        assert container["ports"][0]["name"] == "http1"  # the port names Knative accepts


@pytest.mark.parametrize("name", ["default", "all"])
def test_intake_timeouts_fit_sse_and_the_cluster_cap(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    docs = renderings[name]
    spec = by_name(docs, *KSVC, f"{_fullname(name)}-intake")["spec"]["template"]["spec"]
    assert (spec["containerConcurrency"], spec["idleTimeoutSeconds"]) == (0, 0)
    assert spec["timeoutSeconds"] >= 3600
    assert spec["responseStartTimeoutSeconds"] <= spec["timeoutSeconds"]
    values = ALL if name == "all" else DEFAULTS
    assert spec["timeoutSeconds"] <= values["knative"]["maxRevisionTimeoutSeconds"]
    for ksvc in of_kind(docs, *KSVC):
        cap = values["knative"]["maxRevisionTimeoutSeconds"]
        assert ksvc["spec"]["template"]["spec"]["timeoutSeconds"] <= cap


def test_the_cluster_config_enables_runtime_classes_and_long_streams(
    renderings: dict[str, list[Doc]],
) -> None:
    config_maps = {c["metadata"]["name"]: c for c in of_kind(renderings["all"], "v1", "ConfigMap")}
    features, defaults = config_maps["config-features"], config_maps["config-defaults"]
    assert features["metadata"]["namespace"] == "knative-serving"
    assert features["data"] == {"kubernetes.podspec-runtimeclassname": "enabled"}
    assert defaults["data"] == {"max-revision-timeout-seconds": "7200"}


@pytest.mark.parametrize("name", RENDERED)
def test_the_executor_drains_on_sigterm_and_scales_with_keda(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    docs = renderings[name]
    deployment = by_name(docs, "apps/v1", "Deployment", f"{_fullname(name)}-executor")
    values = ALL if name == "all" else DEFAULTS
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == values["executor"]["drainSeconds"]
    assert "replicas" not in deployment["spec"]  # KEDA owns the replica count
    n_jobs = _env(pod["containers"][0])["LG_DEPLOY_N_JOBS"]
    assert n_jobs == str(values["executor"]["nJobs"])

    scaled = of_kind(docs, "keda.sh/v1alpha1", "ScaledObject")[0]["spec"]
    assert scaled["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["minReplicaCount"] == 0
    behavior = scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] > 0
    triggers = {t["type"]: t for t in scaled["triggers"]}
    postgresql = triggers["postgresql"]["metadata"]
    statuses = re.search(r"status IN \(([^)]*)\)", postgresql["query"])
    assert statuses is not None
    assert {s.strip(" '") for s in statuses[1].split(",")} == {"pending", "running"}
    assert re.match(r"SELECT count\(\*\) FROM runs WHERE", postgresql["query"])
    assert (postgresql["targetQueryValue"], postgresql["activationTargetQueryValue"]) == (
        n_jobs,
        "0",
    )
    kafka = triggers["kafka"]["metadata"]
    assert kafka["topic"] == f"{_prefix(name)}run-requests"
    assert kafka["consumerGroup"] == f"{_prefix(name)}executors"
    assert kafka["activationLagThreshold"] == "0"
    assert kafka["bootstrapServersFromEnv"] in _env(pod["containers"][0])


def test_keda_reads_the_dsn_from_the_executor_or_a_trigger_authentication(
    renderings: dict[str, list[Doc]],
) -> None:
    default = of_kind(renderings["default"], "keda.sh/v1alpha1", "ScaledObject")[0]
    (postgresql,) = [t for t in default["spec"]["triggers"] if t["type"] == "postgresql"]
    assert postgresql["metadata"]["connectionFromEnv"] == "LG_DEPLOY_DATABASE_URL"

    docs = renderings["all"]
    scaled = of_kind(docs, "keda.sh/v1alpha1", "ScaledObject")[0]
    (postgresql,) = [t for t in scaled["spec"]["triggers"] if t["type"] == "postgresql"]
    assert "connectionFromEnv" not in postgresql["metadata"]
    auth = by_name(
        docs, "keda.sh/v1alpha1", "TriggerAuthentication", postgresql["authenticationRef"]["name"]
    )
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "connection", "name": "pg-dsn", "key": "dsn"}
    ]


def test_without_keda_the_executor_has_fixed_replicas(renderings: dict[str, list[Doc]]) -> None:
    docs = renderings["minimal"]
    assert of_kind(docs, "keda.sh/v1alpha1", "ScaledObject") == []
    assert of_kind(docs, "apps/v1", "Deployment")[0]["spec"]["replicas"] == 2


def _policies(docs: list[Doc]) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["name"]: p["spec"]
        for p in of_kind(docs, "networking.k8s.io/v1", "NetworkPolicy")
    }


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


@pytest.mark.parametrize("name", RENDERED)
def test_egress_is_denied_by_default(renderings: dict[str, list[Doc]], name: str) -> None:
    docs = renderings[name]
    deny = _policies(docs)[f"{_fullname(name)}-default-deny"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "egress" not in deny and "ingress" not in deny
    for pod in _pods(docs).values():
        assert _selects(deny["podSelector"], pod["metadata"]["labels"])


@pytest.mark.parametrize("name", RENDERED)
def test_egress_allows_dns_postgresql_and_kafka_to_every_pod(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    docs = renderings[name]
    base = _policies(docs)[f"{_fullname(name)}-egress-base"]
    ports = {(p["protocol"], p["port"]) for rule in base["egress"] for p in rule["ports"]}
    assert {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 9092)} <= ports
    for pod in _pods(docs).values():
        assert _selects(base["podSelector"], pod["metadata"]["labels"])


def test_tracing_names_each_function_and_lets_it_reach_the_collector(
    renderings: dict[str, list[Doc]],
) -> None:
    for pod in _pods(renderings["all"]).values():
        container = pod["spec"]["containers"][0]
        env = _env(container)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://tempo.tracing:4318"
        assert env["OTEL_SERVICE_NAME"] == f"lg-deploy-{container['name']}"
        assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    base = _policies(renderings["all"])["agents-egress-base"]
    collector = [rule for rule in base["egress"] if rule["ports"][0]["port"] == 4318]
    assert collector == [
        {
            "ports": [{"protocol": "TCP", "port": 4318}],
            "to": ALL["tracing"]["collector"]["to"],
        }
    ]
    for pod in _pods(renderings["default"]).values():  # no endpoint: no tracing at all
        assert not any(name.startswith("OTEL_") for name in _env(pod["spec"]["containers"][0]))
    default_base = _policies(renderings["default"])["lg-deploy-egress-base"]
    assert all(rule["ports"][0]["port"] != 4318 for rule in default_base["egress"])


def test_llm_hosts_are_reachable_from_the_executor_only(renderings: dict[str, list[Doc]]) -> None:
    docs = renderings["all"]
    llm = _policies(docs)["agents-egress-llm"]
    cidrs = {peer["ipBlock"]["cidr"] for peer in llm["egress"][0]["to"]}
    assert cidrs == set(ALL["networkPolicy"]["llmHosts"]["cidrs"])
    assert [p["port"] for p in llm["egress"][0]["ports"]] == [443]
    selected = [
        n
        for n, pod in _pods(docs).items()
        if _selects(llm["podSelector"], pod["metadata"]["labels"])
    ]
    assert selected == ["agents-executor"]
    assert "agents-egress-llm" not in _policies(renderings["default"])  # no hosts configured


def test_knative_services_take_ingress_from_knative_only(renderings: dict[str, list[Doc]]) -> None:
    docs = renderings["default"]
    ingress = _policies(docs)["lg-deploy-ingress-knative"]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in ingress["ingress"][0]["from"]
    }
    assert namespaces == set(DEFAULTS["networkPolicy"]["knativeNamespaces"])
    selected = {
        n
        for n, pod in _pods(docs).items()
        if _selects(ingress["podSelector"], pod["metadata"]["labels"])
    }
    assert selected == {f"lg-deploy-{f}" for f in KNATIVE_FUNCTIONS}


INTERNAL_FUNCTIONS = ("cron", "webhooks", "builder")


@pytest.mark.parametrize("name", ["default", "all"])
def test_internal_functions_take_ingress_from_knative_and_monitoring_only(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    values = ALL if name == "all" else DEFAULTS
    np = {**DEFAULTS["networkPolicy"], **values.get("networkPolicy", {})}
    allowed = {*np["knativeNamespaces"], np["monitoringNamespace"]}
    docs = renderings[name]
    pods = _pods(docs)
    for function in INTERNAL_FUNCTIONS:
        labels = pods[f"{_fullname(name)}-{function}"]["metadata"]["labels"]
        rules = [
            rule
            for policy in _policies(docs).values()
            if "Ingress" in policy["policyTypes"] and _selects(policy["podSelector"], labels)
            for rule in policy.get("ingress", [])
        ]
        assert rules
        for rule in rules:
            assert rule.get("from"), f"{function}: a rule open to any peer"
            for peer in rule["from"]:
                assert set(peer) == {"namespaceSelector"}, peer
                namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                assert namespace in allowed


def test_internal_functions_read_the_shared_secret_and_sources_present_it(
    renderings: dict[str, list[Doc]],
) -> None:
    docs, token = renderings["all"], ALL["internalToken"]
    secret = by_name(docs, "v1", "Secret", "agents-internal-token")
    assert secret["stringData"] == {"token": token}
    reference = {"secretKeyRef": {"name": "agents-internal-token", "key": "token"}}
    for pod_name, pod in _pods(docs).items():
        env = _env(pod["spec"]["containers"][0])
        internal = pod_name.removeprefix("agents-") in INTERNAL_FUNCTIONS
        assert env.get("LG_DEPLOY_INTERNAL_TOKEN") == (reference if internal else None), pod_name
    sources = of_kind(docs, "sources.knative.dev/v1", "PingSource") + of_kind(
        docs, "sources.knative.dev/v1", "KafkaSource"
    )
    assert len(sources) == 5
    for source in sources:
        assert source["spec"]["ceOverrides"] == {"extensions": {"lgdtoken": token}}


@pytest.mark.parametrize("name", ["default", "plain"])
def test_without_a_token_nothing_carries_one(renderings: dict[str, list[Doc]], name: str) -> None:
    docs = renderings[name]
    assert of_kind(docs, "v1", "Secret") == []
    for pod in _pods(docs).values():
        assert "LG_DEPLOY_INTERNAL_TOKEN" not in _env(pod["spec"]["containers"][0])
    for kind in ("PingSource", "KafkaSource"):
        for source in of_kind(docs, "sources.knative.dev/v1", kind):
            assert "ceOverrides" not in source["spec"]


@pytest.mark.parametrize("name", RENDERED)
def test_kafka_sources_consume_the_contract_topics(
    renderings: dict[str, list[Doc]], name: str
) -> None:
    prefix, full = _prefix(name), _fullname(name)
    sources = {
        s["spec"]["topics"][0]: (s["spec"]["consumerGroup"], s["spec"]["sink"]["ref"]["name"])
        for s in of_kind(renderings[name], "sources.knative.dev/v1", "KafkaSource")
    }
    expected = {
        f"{prefix}run-lifecycle": (f"{prefix}webhooks", f"{full}-webhooks"),
        f"{prefix}build-requests": (f"{prefix}builder", f"{full}-builder"),
    }
    if name == "all":
        expected[f"{prefix}cron-ticks"] = (f"{prefix}cron", f"{full}-cron")
    assert sources == expected


@pytest.mark.parametrize("name", RENDERED)
def test_kafka_sources_retry_then_dead_letter(renderings: dict[str, list[Doc]], name: str) -> None:
    docs = renderings[name]
    (sink,) = of_kind(docs, "eventing.knative.dev/v1alpha1", "KafkaSink")
    assert sink["spec"]["topic"] == f"{_prefix(name)}dead-letters"
    for source in of_kind(docs, "sources.knative.dev/v1", "KafkaSource"):
        delivery = source["spec"]["delivery"]
        assert delivery["retry"] > 0
        assert delivery["deadLetterSink"]["ref"]["name"] == sink["metadata"]["name"]


def test_dead_letters_may_go_to_a_uri(renderings: dict[str, list[Doc]]) -> None:
    (source,) = of_kind(renderings["minimal"], "sources.knative.dev/v1", "KafkaSource")
    assert source["spec"]["delivery"]["deadLetterSink"] == {
        "uri": "http://dead-letters.example.svc.cluster.local"
    }


@pytest.mark.parametrize("name", RENDERED)
def test_ping_sources_tick_cron_and_webhooks(renderings: dict[str, list[Doc]], name: str) -> None:
    pings = {
        p["spec"]["sink"]["ref"]["name"]: p["spec"]
        for p in of_kind(renderings[name], "sources.knative.dev/v1", "PingSource")
    }
    full = _fullname(name)
    assert set(pings) == {f"{full}-cron", f"{full}-webhooks"}
    schedule = "*/2 * * * *" if name == "all" else "* * * * *"
    assert pings[f"{full}-cron"]["schedule"] == schedule
    assert all(p["sink"]["ref"]["kind"] == "Service" for p in pings.values())


def test_plain_manifests_are_split_by_technology() -> None:
    root = Path(CHART).parents[1]
    kinds = {
        folder: {
            doc["kind"]
            for path in (root / folder).glob("*.yaml")
            for doc in yaml.safe_load_all(path.read_text())
            if doc
        }
        for folder in ("knative", "keda")
    }
    assert kinds["keda"] == {"Deployment", "ScaledObject"}
    assert {"Service", "PingSource", "KafkaSource", "KafkaSink", "Namespace"} <= kinds["knative"]
