"""Session fixtures of the manifest tests: the tools (built on first use), the validator, and
the chart rendered with each values file of this folder."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.render import (
    KUBE_VERSION,
    PLAIN_FOLDERS,
    VALUES,
    Doc,
    documents,
    helm_template,
)
from tests.deploy.schemas import Validator
from tests.deploy.tools import REPO, K8sTools, ensure_tools


@pytest.fixture(scope="session")
def k8s_tools() -> K8sTools:
    """helm and the CRDs, from tests/infra/k8s-tools.sh (a cold build: 1.5-4 minutes)."""
    return ensure_tools()


@pytest.fixture(scope="session")
def validator(k8s_tools: K8sTools) -> Validator:
    """Strict schema validation for every kind the chart renders."""
    return Validator(k8s_tools.crds, k8s_tools.keda_scalers, KUBE_VERSION)


@pytest.fixture(scope="session")
def renderings(k8s_tools: K8sTools) -> dict[str, list[Doc]]:
    """name → documents of ``helm template`` with that values file; ``plain`` is the
    committed knative/ and keda/ folders as a user applies them."""
    out = {name: documents(helm_template(k8s_tools, files)) for name, files in VALUES.items()}
    out["plain"] = [
        doc
        for folder in sorted(set(PLAIN_FOLDERS.values()))
        for path in sorted((REPO / folder).glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    return out
