"""The Pod Security Standards "restricted" profile, checked on a rendered pod spec.

Follows https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline and
restricted controls as of Kubernetes 1.34) for what a chart decides: host namespaces, host
ports and paths, privileged mode, capabilities, privilege escalation, non-root users, seccomp,
volume types, sysctls, /proc mount, SELinux and AppArmor. The API server's admission remains the
authority; this catches a template that drifts from it before a cluster does.
"""

from __future__ import annotations

from typing import Any

RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SAFE_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
SAFE_SYSCTLS_PREFIXES = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range")


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What in ``pod`` (a PodSpec as a dict) breaks the "restricted" profile; empty when
    nothing does."""
    problems: list[str] = []
    pod_sc = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"{field} is set")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']} has type {sorted(kinds)}")
    for sysctl in pod_sc.get("sysctls") or []:
        if not sysctl["name"].startswith(SAFE_SYSCTLS_PREFIXES):
            problems.append(f"sysctl {sysctl['name']}")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    containers = [
        *(pod.get("initContainers") or []),
        *(pod.get("containers") or []),
        *(pod.get("ephemeralContainers") or []),
    ]
    for container in containers:
        problems += [f"{container['name']}: {p}" for p in _container_violations(container, pod_sc)]
    return problems


def _container_violations(container: dict[str, Any], pod_sc: dict[str, Any]) -> list[str]:
    sc = container.get("securityContext") or {}
    problems = []
    if sc.get("privileged"):
        problems.append("privileged")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true")
    if sc.get("runAsUser") == 0:
        problems.append("runAsUser is 0")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp not in SAFE_SECCOMP:
        problems.append(f"seccompProfile is {seccomp!r}")
    capabilities = sc.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append("capabilities do not drop ALL")
    if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
        problems.append(f"capabilities add {capabilities['add']}")
    if sc.get("procMount", "Default") != "Default":
        problems.append("procMount is not Default")
    if (sc.get("seLinuxOptions") or {}).get("type") not in (
        None,
        "",
        "container_t",
        "container_init_t",
        "container_kvm_t",
    ):
        problems.append("seLinuxOptions type")
    if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        problems.append("appArmorProfile is Unconfined")
    for port in container.get("ports") or []:
        if port.get("hostPort"):
            problems.append(f"hostPort {port['hostPort']}")
    return problems
