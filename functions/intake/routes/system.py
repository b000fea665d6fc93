"""System endpoints: ``/ok``, ``/``, ``/info``. Source: Agent Server API, "System"."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Response

from functions.intake.deps import RuntimeDep
from functions.intake.responses import Json, error_response
from shared.db import runs as runs_db
from shared.metrics import CONTENT_TYPE_LATEST, OLDEST_PENDING, RUNS_BY_STATUS, generate_latest

router = APIRouter(tags=["system"])


@router.get("/ok")
@router.get("/", include_in_schema=False)
async def ok(rt: RuntimeDep, check_db: int = 0) -> Response:
    """Health: ``{"ok": true}``; with ``check_db=1`` also a database round trip (503 if down)."""
    if check_db:
        try:
            await rt.db.pool.fetchval("SELECT 1")
        except Exception as exc:  # any failure of the probe means unhealthy
            return error_response(503, f"database unavailable: {type(exc).__name__}")
    return Json({"ok": True})


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
    counts, oldest = await runs_db.status_counts(rt.db.pool)
    for status in ("pending", "running", "success", "error", "timeout", "interrupted"):
        RUNS_BY_STATUS.labels(status).set(counts.get(status, 0))
    OLDEST_PENDING.set(oldest)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
