"""``lgd_http_request_duration_seconds{method,route,code}`` for every request an app serves.

:class:`RequestMetrics` is one pure ASGI middleware, the outermost of each function's app:
intake adds it last (``functions/intake/app.py``), so it also sees the refusals of the other
middlewares (401, 413, 429); the apps of the other functions (``/ok``, ``/metrics`` and their
CloudEvent endpoint: :func:`shared.runtime.internal.internal_app`, the executor's app) list it
in their ``middleware``. The route template is the one the router matched (Starlette records
it as ``scope["route"]``, so the usual request costs one dict read); a request no route
handled (refused before routing, or a 404) is matched against the app's routes once, and is
``<unmatched>`` when none fits.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HTTP_DURATION

UNMATCHED = "<unmatched>"
"""The ``route`` label of a request that no route of the app matches."""


def route_template(scope: Scope) -> str:
    """The path template of the route that handled (or would handle) the request of
    ``scope``, e.g. ``/threads/{thread_id}/runs``; :data:`UNMATCHED` when none matches."""
    route = scope.get("route")
    if route is None:
        route = _matching_route(
            getattr(getattr(scope.get("app"), "router", None), "routes", ()), scope
        )
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def _matching_route(routes: Iterable[BaseRoute], scope: Scope) -> BaseRoute | None:
    """The first of ``routes`` (depth first through included routers) that matches the
    request fully or by path only (a 405), for requests that never reached the router.
    FastAPI keeps an included router as one entry (``original_router`` holds its routes,
    whose templates are whole when ``include_router`` adds no prefix, as in intake)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        return route if inner is None else _matching_route(inner, scope)
    return None


class RequestMetrics:
    """ASGI middleware observing each HTTP request's seconds from arrival to its response's
    headers in ``lgd_http_request_duration_seconds`` (a streaming response is measured to its
    start). An exception that escapes before any response counts as code ``500`` (what
    Starlette's error middleware then answers); a request cancelled before answering (the
    client left) is not observed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = False

        async def timed_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                _observe(scope, message["status"], started)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            if not answered:
                _observe(scope, 500, started)
            raise


def _observe(scope: Scope, status: int, started: float) -> None:
    HTTP_DURATION.labels(scope["method"], route_template(scope), str(status)).observe(
        time.perf_counter() - started
    )
