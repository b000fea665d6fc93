"""The edge's authentication: every request but the open paths passes
``Runtime.access.authenticate`` once, before routing, and its
:class:`~shared.auth.context.RequestContext` goes into ``request.state.ctx`` (read by the
routes through :data:`functions.intake.deps.CtxDep`). REST, streams, A2A, MCP and
``/cloudevents`` alike; a refusal is ``{"detail"}`` with the error's status and headers, and
a database that cannot be reached to check credentials is ``503`` with ``Retry-After``.
With tracing on, the request's server span (:func:`shared.tracing.setup.instrument_app`)
wraps this middleware: the context continues it, and the span gets the ``lgd.tenant`` and
``lgd.request_id`` attributes.
"""

from __future__ import annotations

from opentelemetry import trace
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from functions.intake.responses import error_response
from shared.auth.access import Access
from shared.db.pool import DB_ERRORS
from shared.errors import DomainError
from shared.tracing import spans

RETRY_LATER = {"Retry-After": "1"}
OPEN_PATHS = frozenset({"/", "/ok", "/metrics", "/docs", "/openapi.json", "/info"})
"""Served to anyone, as by the official server with custom auth on: health (``/`` for load
balancers, ``/ok``), Prometheus scrapes, the API description and server info."""


class Authenticate:
    """ASGI middleware: authenticate each HTTP request outside :data:`OPEN_PATHS`."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            try:
                ctx = await self.access.authenticate(Request(scope, receive))
            except DomainError as exc:
                response = error_response(exc.status, exc.detail, exc.headers)
                await response(scope, receive, send)
                return
            except DB_ERRORS:  # a key lookup missed the cache while PostgreSQL is down
                response = error_response(503, "database unavailable; retry", RETRY_LATER)
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["ctx"] = ctx
            trace.get_current_span().set_attributes(
                {spans.TENANT: ctx.tenant_id, spans.REQUEST_ID: ctx.request_id}
            )
        await self.app(scope, receive, send)
