"""The offline Kubernetes tools: helm and the CRD YAMLs, from ``tests/infra/k8s-tools.sh``.

The script builds helm with ``go install`` and fetches the CRDs with ``go mod download`` (pinned
versions, cached under ``${LG_DEPLOY_CACHE:-~/.cache/lg-deploy}/k8s-tools``); a cold run takes
1.5-4 minutes on 2 cores, a warm one well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.infra.scripts import install

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECONDS = 1800.0
"""A cold helm build on a 2-core machine takes about 1.5 minutes; allow for slow networks."""


@dataclass(frozen=True)
class K8sTools:
    """Paths of the installed tools: the ``helm`` binary, the folder of CRD YAMLs and the
    folder of KEDA scaler sources (``<trigger type>.go``)."""

    helm: Path
    crds: Path
    keda_scalers: Path


def ensure_tools() -> K8sTools:
    """Install (or find, when cached) helm and the CRDs; RuntimeError with the script's output
    when it fails (no Go toolchain, module proxy unreachable)."""
    paths = install("k8s-tools.sh", INSTALL_TIMEOUT_SECONDS)
    return K8sTools(
        helm=Path(paths["helm"]),
        crds=Path(paths["crds"]),
        keda_scalers=Path(paths["keda_scalers"]),
    )
