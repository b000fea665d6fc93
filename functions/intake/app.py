"""The intake function: the Agent Server HTTP API as a FastAPI app.

Routes validate a pydantic model, call one function of ``shared/`` and return JSON or SSE.
Every route passes the edge check first (:mod:`functions.intake.edge`). Domain errors map to 4xx
in one place; bodies over ``max_body_bytes`` get 413; a tenant over a limit gets 429
(:mod:`functions.intake.tenant_limits`). Every operation documents 413 and 422 with the error
model, and 401, 403 and 429 unless it is a system endpoint; routes add the other statuses they
answer. With tracing on (``OTEL_*``), each request but ``/ok`` and ``/metrics`` has a server
span around everything, and its response the ``traceresponse`` header naming it.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.intake.audit import AuditTrail
from functions.intake.auth import Authenticate
from functions.intake.limits import BodyLimit
from functions.intake.openapi import declare_security
from functions.intake.responses import (
    domain_error_handler,
    errors,
    http_error_handler,
    validation_error_handler,
)
from functions.intake.routes import (
    a2a,
    admin,
    assistants,
    audit,
    cloudevents,
    crons,
    limits,
    mcp,
    runs,
    store,
    system,
    thread_stream,
    threads,
    webhooks,
)
from functions.intake.tenant_limits import TenantLimits
from shared.errors import DomainError
from shared.graphs.config import DEFAULT_CORS
from shared.runtime.context import Runtime
from shared.runtime.http_metrics import RequestMetrics
from shared.services.audit import AuditRecorder
from shared.services.limits import LimitsCache
from shared.services.rate_limit import RateLimiter
from shared.services.stream_limit import StreamSlots
from shared.streams.follow import RunWatcher
from shared.tracing.setup import instrument_app

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        system,
        assistants,
        threads,
        thread_stream,
        runs,
        webhooks,
        crons,
        store,
        a2a,
        mcp,
        cloudevents,
        admin,
        audit,
        limits,
    )
)
"""Every router of the intake API: its route table (the tenant isolation test walks it)."""


def create_app(rt: Runtime, watcher: RunWatcher, recorder: AuditRecorder) -> FastAPI:
    """The intake app over ``rt``; ``watcher`` and ``recorder`` (the audit log's writer) must
    be started in the serving loop."""
    app = FastAPI(
        title="lg-deploy Agent Server API",
        version="0.1.0",
        description="Open-source, durable runtime for LangGraph agents.",
        # the server spans are opentelemetry-instrumentation-asgi's (shared.tracing.setup):
        # FastAPI's own telemetry would trace every request a second time once a tracer exists
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = rt
    app.state.watcher = watcher
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    settings = rt.settings
    app.state.limits = LimitsCache(rt.db.pool, settings)
    app.add_middleware(  # after authentication: the context names the tenant
        TenantLimits,
        cache=app.state.limits,
        rate=RateLimiter(rt.db.pool, settings.tenant_rate_window_seconds),
        streams=StreamSlots(rt.db.pool, settings.stream_lease_seconds),
    )
    app.add_middleware(Authenticate, access=rt.access)  # its refusals get CORS
    app.add_middleware(AuditTrail, recorder=recorder)  # sees Authenticate's 401s
    app.add_middleware(BodyLimit, limit=rt.settings.max_body_bytes)
    # CORS from langgraph.json's http.cors, else the official server's default
    app.add_middleware(CORSMiddleware, **(rt.project.cors or DEFAULT_CORS))
    app.add_middleware(RequestMetrics)  # outermost: times every answer, refusals included
    for router in ROUTERS:
        # every router but system's is behind the edge's authentication (auth.py) and the
        # tenant's limits (tenant_limits.py)
        statuses = (413, 422) if router is system.router else (401, 403, 413, 422, 429)
        app.include_router(router, responses=errors(*statuses))
    if rt.project.auth is not None and rt.project.auth.openapi is not None:
        declare_security(app, rt.project.auth.openapi)
    instrument_app(app)  # outermost, when tracing is on: a server span per request
    return app
