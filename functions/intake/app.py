"""The intake function: the Agent Server HTTP API as a FastAPI app.

Routes validate a pydantic model, call one function of ``shared/`` and return JSON or SSE.
Every route passes the edge check first (:mod:`functions.intake.edge`). Domain errors map to 4xx
in one place; bodies over ``max_body_bytes`` get 413; a tenant over a limit gets 429
(:mod:`functions.intake.tenant_limits`). Every operation documents 413, 422 and 429 with the
error model; routes add the other statuses they answer.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from functions.intake.auth import Authenticate
from functions.intake.limits import BodyLimit
from functions.intake.responses import (
    domain_error_handler,
    errors,
    http_error_handler,
    validation_error_handler,
)
from functions.intake.routes import (
    a2a,
    assistants,
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
from shared.services.limits import LimitsCache
from shared.services.rate_limit import RateLimiter
from shared.services.stream_limit import StreamSlots
from shared.streams.follow import RunWatcher


def create_app(rt: Runtime, watcher: RunWatcher) -> FastAPI:
    """The intake app over ``rt``; ``watcher`` must be started in the serving loop."""
    app = FastAPI(
        title="lg-deploy Agent Server API",
        version="0.1.0",
        description="Open-source, durable runtime for LangGraph agents.",
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
    app.add_middleware(BodyLimit, limit=rt.settings.max_body_bytes)
    # CORS from langgraph.json's http.cors, else the official server's default
    app.add_middleware(CORSMiddleware, **(rt.project.cors or DEFAULT_CORS))
    routers = (
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
        limits,
    )
    for module in routers:
        app.include_router(module.router, responses=errors(413, 422, 429))
    return app
