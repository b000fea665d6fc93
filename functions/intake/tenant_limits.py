"""The edge's per-tenant limits, right after authentication (the request context names the
tenant): the request rate, then, for a stream, a stream slot held until it closes.

Streams are the SSE routes, whose paths end in ``/stream``: ``…/runs/stream`` (create and
stream), ``…/runs/{run_id}/stream`` (join) and ``/threads/{thread_id}/stream``. Refusals
are ``429 {"detail"}``; a tenant with a rate limit gets the ``RateLimit`` headers on every
answer (:mod:`shared.services.rate_limit`). Paths without a context (``OPEN_PATHS``) are not
limited.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.intake.responses import error_response
from shared.errors import TooManyRequests
from shared.services.limits import LimitsCache
from shared.services.rate_limit import RateLimiter
from shared.services.stream_limit import StreamSlots


def is_stream(scope: Scope) -> bool:
    """Whether the request opens an SSE stream (a path ending in ``/stream``)."""
    return str(scope["path"]).endswith("/stream")


class TenantLimits:
    """ASGI middleware enforcing each tenant's request rate and open streams."""

    def __init__(
        self, app: ASGIApp, cache: LimitsCache, rate: RateLimiter, streams: StreamSlots
    ) -> None:
        self.app, self.cache, self.rate, self.streams = app, cache, rate, streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = scope.get("state", {}).get("ctx") if scope["type"] == "http" else None
        if ctx is None:
            await self.app(scope, receive, send)
            return
        limits = await self.cache.get(ctx.tenant_id)
        headers: dict[str, str] = {}
        if limits.requests_per_window is not None:
            admission = await self.rate.admit(ctx.tenant_id, limits.requests_per_window)
            headers = admission.headers
            if not admission.allowed:
                detail = (
                    f"Tenant '{ctx.tenant_id}' sent {limits.requests_per_window} requests in"
                    " this rate window, its limit; retry after Retry-After seconds"
                )
                await error_response(429, detail, headers)(scope, receive, send)
                return
        if headers:
            send = _with_headers(send, headers)
        if limits.max_streams is None or not is_stream(scope):
            await self.app(scope, receive, send)
            return
        try:
            lease = await self.streams.open(ctx.tenant_id, limits.max_streams)
        except TooManyRequests as exc:
            await error_response(exc.status, exc.detail, exc.headers)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self.streams.close(lease)


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    """``send`` adding ``headers`` to the response's start."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableHeaders(scope=message)
            for name, value in headers.items():
                response_headers[name] = value
        await send(message)

    return sending
