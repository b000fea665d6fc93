"""The HTTP surface of the cluster-internal functions (cron, webhooks, builder): only callers
that hold the deployment's shared secret, ``LG_DEPLOY_INTERNAL_TOKEN``.

A caller proves it with ``Authorization: Bearer <token>`` or, for senders that cannot set
headers but can add CloudEvent extensions (Knative PingSource and KafkaSource
``spec.ceOverrides.extensions``), the extension ``lgdtoken`` of a binary-mode event (header
``ce-lgdtoken``). ``GET /ok`` and ``GET /metrics`` stay open for probes and Prometheus.
Without a token configured every caller is accepted and start-up says so; the chart's
NetworkPolicy then is the only gate (README "Internal endpoints").
"""

from __future__ import annotations

import logging
import secrets

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.cloud_events.http import Handler, cloudevent_endpoint
from shared.runtime.context import Runtime
from shared.runtime.http_metrics import RequestMetrics
from shared.runtime.ops import OPS_PATHS, ops_routes

log = logging.getLogger(__name__)

TOKEN_EXTENSION = "lgdtoken"
"""The CloudEvent extension attribute that may carry the token (binary mode: a header)."""


def presented_token(headers: Headers) -> str | None:
    """The token a request presents: the ``Authorization: Bearer`` credentials, else the
    ``ce-lgdtoken`` header; ``None`` when neither is there."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return headers.get(f"ce-{TOKEN_EXTENSION}")


class InternalOnly:
    """ASGI middleware: ``401 {"detail"}`` (``WWW-Authenticate: Bearer``) for a request
    outside the ops paths that does not present ``token`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, token: SecretStr) -> None:
        self.app = app
        self._token = token.get_secret_value().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPS_PATHS:
            presented = presented_token(Headers(scope=scope))
            if presented is None or not secrets.compare_digest(presented.encode(), self._token):
                detail = "this endpoint takes cluster-internal callers only: present the token"
                refusal = JSONResponse(
                    {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def internal_app(rt: Runtime, routes: list[BaseRoute]) -> Starlette:
    """A cluster-internal function's app: ``routes`` plus ``GET /ok`` and ``GET /metrics``,
    behind :class:`InternalOnly` when ``rt.settings.internal_token`` is set, every request
    timed by :class:`RequestMetrics` (its refusals included)."""
    token = rt.settings.internal_token
    if token is None:
        log.warning("no LG_DEPLOY_INTERNAL_TOKEN: the HTTP endpoints take any caller")
    middleware = [Middleware(RequestMetrics)]
    if token is not None:
        middleware.append(Middleware(InternalOnly, token=token))
    return Starlette(routes=[*routes, *ops_routes(rt)], middleware=middleware)


def cloudevent_app(rt: Runtime, handle: Handler) -> Starlette:
    """The HTTP surface of a CloudEvent-handling function (cron, webhooks): ``POST /`` →
    ``handle(event)`` with the answers of :func:`shared.cloud_events.http.cloudevent_endpoint`,
    plus ``GET /ok`` and ``GET /metrics``, as an :func:`internal_app`."""
    return internal_app(rt, [Route("/", cloudevent_endpoint(handle), methods=["POST"])])
