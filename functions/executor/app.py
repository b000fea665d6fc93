"""The executor's HTTP surface when it runs alone: ``GET /ok`` and ``GET /metrics`` only.

The executor is a KEDA-scaled Deployment, not a Knative Service: this app serves the
Kubernetes probes and Prometheus, never work. ``/ok`` reports the executor's load, e.g.
``{"ok": true, "running": 3, "n_jobs": 32}``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from functions.executor.worker import Executor
from shared.runtime.context import Runtime
from shared.runtime.http_metrics import RequestMetrics
from shared.runtime.ops import ops_routes


def create_app(rt: Runtime, executor: Executor) -> Starlette:
    """``GET /ok`` (with ``running`` and ``n_jobs`` of ``executor``) and ``GET /metrics``,
    each request timed by :class:`RequestMetrics`."""
    return Starlette(
        routes=ops_routes(rt, lambda: {"running": executor.running, "n_jobs": executor.n_jobs}),
        middleware=[Middleware(RequestMetrics)],
    )
