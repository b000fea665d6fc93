"""The operational endpoints every function serves: ``GET /ok`` and ``GET /metrics``.

- ``GET /ok``: health, ``{"ok": true}`` (plus what the function adds, such as the executor's
  load); with ``?check_db=1`` also a PostgreSQL round trip, ``503 {"detail": …}`` when it
  fails. The Agent Server API's "Health Check"; Kubernetes probes use it.
- ``GET /metrics``: Prometheus text exposition of this process's metrics
  (:mod:`shared.metrics`), after reading the system-wide gauges from PostgreSQL. A database
  that cannot be read never fails the scrape: the process metrics are served,
  ``lgd_database_up`` is 0 and the run gauges are NaN.

Intake declares these paths in its FastAPI app (they belong to its OpenAPI document) and calls
:func:`health` and :func:`metrics_response`; the other functions mount :func:`ops_routes`
(the cluster-internal ones through :func:`shared.runtime.internal.internal_app`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, get_args

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shared.api.common import RunStatus
from shared.db import runs as runs_db
from shared.db.pool import DB_ERRORS
from shared.metrics import (
    CONTENT_TYPE_LATEST,
    DATABASE_UP,
    OLDEST_PENDING,
    OLDEST_RUNNING,
    QUEUE_DEPTH,
    RUNS_BY_STATUS,
    generate_latest,
)
from shared.runtime.context import Runtime

log = logging.getLogger(__name__)

OPS_PATHS = frozenset({"/ok", "/metrics"})
"""The operational paths: open to probes and Prometheus on every function."""

DB_TIMEOUT_SECONDS = 5.0
"""Longest a scrape's or a health check's PostgreSQL read may take (Prometheus' default scrape
timeout is 10 s)."""


async def refresh_gauges(pool: asyncpg.Pool) -> bool:
    """Read the system-wide gauges from PostgreSQL (:func:`shared.db.runs.status_counts`, one
    statement): ``lgd_runs{status}`` (every status, 0 when none), and per tenant
    ``lgd_queue_depth``, ``lgd_oldest_pending_run_age_seconds`` and
    ``lgd_oldest_running_run_age_seconds`` (series only for the tenants that have such runs
    now: the others' are removed); set ``lgd_database_up``. Returns whether the read
    succeeded; on a database error or timeout it logs a warning, sets ``lgd_runs`` to NaN and
    removes the per-tenant series (no stale value is served), never raising."""
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            census = await runs_db.status_counts(pool)
    except DB_ERRORS as exc:
        log.warning("metrics: cannot read runs from PostgreSQL: %r", exc)
        DATABASE_UP.set(0)
        for status in get_args(RunStatus):
            RUNS_BY_STATUS.labels(status).set(math.nan)
        for gauge in (QUEUE_DEPTH, OLDEST_PENDING, OLDEST_RUNNING):
            gauge.clear()
        return False
    DATABASE_UP.set(1)
    for status in get_args(RunStatus):
        RUNS_BY_STATUS.labels(status).set(census.by_status.get(status, 0))
    for gauge in (QUEUE_DEPTH, OLDEST_PENDING, OLDEST_RUNNING):
        gauge.clear()  # no await until the new values are set: a scrape never sees a gap
    for tenant, (depth, waited) in census.queued.items():
        QUEUE_DEPTH.labels(tenant).set(depth)
        OLDEST_PENDING.labels(tenant).set(waited)
    for tenant, running_for in census.oldest_running.items():
        OLDEST_RUNNING.labels(tenant).set(running_for)
    return True


async def metrics_response(pool: asyncpg.Pool) -> Response:
    """``GET /metrics``: refresh the gauges from ``pool``, then every metric of this process in
    the Prometheus text format (``CONTENT_TYPE_LATEST``); always 200."""
    await refresh_gauges(pool)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def health(
    pool: asyncpg.Pool, check_db: bool, details: Mapping[str, Any] | None = None
) -> JSONResponse:
    """``GET /ok``: ``{"ok": true, **details}``; when ``check_db``, first ``SELECT 1`` on
    ``pool`` and answer ``503 {"detail": "database unavailable: …"}`` if that fails."""
    if check_db:
        try:
            async with asyncio.timeout(DB_TIMEOUT_SECONDS):
                await pool.fetchval("SELECT 1")
        except DB_ERRORS as exc:
            detail = f"database unavailable: {type(exc).__name__}"
            return JSONResponse({"detail": detail}, status_code=503)
    return JSONResponse({"ok": True, **(details or {})})


def ops_routes(
    rt: Runtime, details: Callable[[], Mapping[str, Any]] | None = None
) -> list[BaseRoute]:
    """Starlette routes ``GET /ok`` and ``GET /metrics`` over ``rt``'s database, for functions
    whose app is not intake's. ``details()`` adds fields to the ``/ok`` body (called per
    request). ``check_db`` takes ``0`` or ``1`` as in the Agent Server API; anything else is
    ``422 {"detail": …}``."""

    async def ok(request: Request) -> Response:
        check_db = request.query_params.get("check_db", "0")
        if check_db not in ("0", "1"):
            return JSONResponse({"detail": "check_db must be 0 or 1"}, status_code=422)
        return await health(rt.db.pool, check_db == "1", details() if details else None)

    async def metrics(_request: Request) -> Response:
        return await metrics_response(rt.db.pool)

    return [Route("/ok", ok, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
