"""The cron function's HTTP surface: one tick per CloudEvent on ``POST /``.

Knative's PingSource (or any CloudEvents sender) posts an event every minute, in binary or
structured mode; answers follow the Knative data-plane contract (:mod:`shared.cloud_events.http`:
``202`` once the tick is committed, ``400`` not a CloudEvent, ``503`` PostgreSQL down).
``GET /ok`` and ``GET /metrics`` are the operational endpoints of every function
(:mod:`shared.runtime.ops`); ``GET /`` is health too.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.cloud_events.http import Handler, cloudevent_endpoint
from shared.runtime.context import Runtime
from shared.runtime.ops import ops_routes


def create_app(rt: Runtime, handle: Handler) -> Starlette:
    """``POST /``: ``handle(event)`` per CloudEvent; ``GET /``, ``GET /ok``, ``GET /metrics``."""

    async def ok(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/", cloudevent_endpoint(handle), methods=["POST"]),
            Route("/", ok, methods=["GET"]),
            *ops_routes(rt),
        ]
    )
