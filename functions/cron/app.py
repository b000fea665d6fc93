"""The cron function's HTTP surface: one tick per CloudEvent on ``POST /``.

Knative's PingSource (or any CloudEvents sender) posts an event every minute, in binary or
structured mode; the event's ``time`` is the tick's "now" (the clock when it has none) and its
``source`` + ``id`` make a redelivery a no-op. Answers follow the Knative data-plane contract:
``202`` with an empty body when handled (a sink that replies nothing), ``400`` for a request
that is not a CloudEvent (not retried), ``503`` when PostgreSQL fails (retried).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.runtime.context import Runtime
from shared.runtime.crons import tick

log = logging.getLogger(__name__)


async def handle(rt: Runtime, message: HTTPMessage) -> Response:
    """Parse ``message`` as a CloudEvent and run one tick at its time."""
    try:
        event = from_http(message, JSONFormat())
    except (BaseCloudEventException, ValueError, TypeError) as exc:
        return JSONResponse({"detail": f"not a CloudEvent: {exc}"}, status_code=400)
    key = f"{event.get_source()} {event.get_id()}"
    try:
        done = await tick(rt, event.get_time() or datetime.now(UTC), key)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("cron tick %s failed: %s", key, exc)
        return Response(status_code=503)
    if done.duplicate:
        log.info("cron tick %s at %s: already handled", key, done.now.isoformat())
    else:
        log.info("cron tick %s at %s: fired %d", key, done.now.isoformat(), len(done.fired))
    return Response(status_code=202)


def create_app(rt: Runtime) -> Starlette:
    """``POST /``: a tick per CloudEvent; ``GET /ok`` and ``GET /``: health."""

    async def receive(request: Request) -> Response:
        return await handle(rt, HTTPMessage(dict(request.headers), await request.body()))

    async def ok(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/", receive, methods=["POST"]),
            Route("/", ok, methods=["GET"]),
            Route("/ok", ok, methods=["GET"]),
        ]
    )
