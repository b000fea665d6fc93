"""System endpoints: ``/ok``, ``/``, ``/info``, ``/metrics``. Source: Agent Server API, "System".

``/ok`` and ``/metrics`` answer as on every other function (:mod:`shared.runtime.ops`); they
are declared here so that they belong to intake's OpenAPI document.
"""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Response

from functions.intake.deps import RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors
from shared.runtime import ops

router = APIRouter(tags=["system"], route_class=EdgeRoute)


@router.get("/ok", responses=errors(503))
@router.get("/", include_in_schema=False)
async def ok(rt: RuntimeDep, check_db: int = 0) -> Response:
    """Health: ``{"ok": true}``; with ``check_db=1`` also a database round trip (503 if down)."""
    return await ops.health(rt.db.pool, bool(check_db))


@router.get("/info")
async def info(rt: RuntimeDep) -> Response:
    """Server version and feature flags."""
    return Json(
        {
            "version": version("lg-deploy"),
            "langgraph_py_version": version("langgraph"),
            "flags": {"assistants": True, "crons": True, "langsmith": False},
            "host": {"kind": "lg-deploy", "project_id": None, "revision_id": None},
            "graphs": rt.graphs.graph_ids,
        }
    )


@router.get("/metrics", response_class=Response)
async def metrics(rt: RuntimeDep) -> Response:
    """Prometheus metrics: this process's counters, and run counts read from PostgreSQL."""
    return await ops.metrics_response(rt.db.pool)
