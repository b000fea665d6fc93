"""Intake on AWS Lambda (mangum): the Agent Server API's non-streaming endpoints.

Set the function's handler to ``functions.intake.lambda_handler.handler`` behind an API Gateway
HTTP or REST API, an Application Load Balancer or a function URL (the events mangum reads).
Settings come from the ``LG_DEPLOY_*`` environment as for ``lg-deploy intake``;
``LG_DEPLOY_DATABASE_URL`` is required and ``LG_DEPLOY_CONFIG`` names the ``langgraph.json``
packaged with the function. Runs are executed elsewhere (``lg-deploy executor``), never here.

The first request of a container (its cold start) opens the runtime: database pools (after
applying migrations), the bus, the graphs; later requests reuse it, and nothing closes it (a
frozen container is discarded by Lambda, not stopped). If PostgreSQL cannot be reached then,
the request gets ``503 {"detail": …}`` and the next one tries again.

mangum returns a response only once its body is complete, so the SSE endpoints (``…/stream``,
A2A ``message/stream``) answer ``501 {"detail": …}`` before doing anything; ``/wait`` and
``/join`` work, within the invocation's and the gateway's timeouts.
"""

from __future__ import annotations

import asyncio
import logging

from mangum import Mangum
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.intake.function import IntakeFunction, build
from functions.intake.responses import error_response
from shared.bootstrap import close_runtime, load_project, open_runtime
from shared.config import load_settings
from shared.db.pool import DB_ERRORS
from shared.logs import configure_logging
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.tracing.setup import configure_tracing

log = logging.getLogger(__name__)

STREAM_PATHS = (
    "/threads/{thread_id}/runs/stream",
    "/threads/{thread_id}/runs/{run_id}/stream",
    "/threads/{thread_id}/stream",
    "/runs/stream",
    "/runs/{run_id}/stream",
)
"""The SSE routes of intake, refused before they run (creating a run, for the POSTs)."""

NO_STREAMS = (
    "streaming (SSE) endpoints are not served on AWS Lambda, which returns a response only once"
    " it is complete; use /runs/wait or /join, or run intake as a container for streams"
)


class _EventStream(Exception):
    """The app began an SSE response the route list did not foresee."""


class LambdaApp:
    """The ASGI app mangum drives: intake over a runtime opened on the first request.

    Requests to :data:`STREAM_PATHS` get ``501``; any other response the app starts as
    ``text/event-stream`` (A2A ``message/stream``) is replaced by the same ``501`` before its
    body is produced, so no stream ever starts.
    """

    def __init__(self) -> None:
        self._streams = [compile_path(path)[0] for path in STREAM_PATHS]
        self._opening = asyncio.Lock()
        self._runtime: Runtime | None = None
        self._intake: IntakeFunction | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # mangum runs with lifespan="off": only HTTP requests arrive
        refuse = error_response(501, NO_STREAMS)
        if any(pattern.match(scope["path"]) for pattern in self._streams):
            await refuse(scope, receive, send)
            return
        try:
            app = await self._app()
        except DB_ERRORS as exc:
            log.warning("cold start failed, PostgreSQL unreachable: %r", exc)
            await error_response(503, "database unavailable; retry")(scope, receive, send)
            return
        try:
            await app(scope, receive, _refusing_event_streams(send))
        except _EventStream:
            await refuse(scope, receive, send)

    async def _app(self) -> ASGIApp:
        """Intake's app, opening the runtime first if this is the container's first request
        (a failure leaves nothing open, so the next request tries again)."""
        async with self._opening:
            if self._intake is None:
                settings = load_settings()
                configure_logging(settings.log_level, settings.log_json, "intake")
                configure_tracing("lg-deploy-intake", statements=settings.trace_statements)
                if settings.database_url is None:
                    raise RuntimeError("LG_DEPLOY_DATABASE_URL must be set for the Lambda handler")
                project, graphs = load_project(settings)
                rt = await open_runtime(
                    settings, settings.database_url, project, graphs, in_process_bus=False
                )
                intake = build(rt, Placement(alone=True, owns_database=False))
                await intake.start()
                self._runtime, self._intake = rt, intake
                log.info("lg-deploy intake on AWS Lambda, graphs %s", rt.graphs.graph_ids)
        assert self._intake.app is not None
        return self._intake.app

    async def close(self) -> None:
        """Stop intake and close the runtime. Lambda never calls it; tests and local tools
        that drive :data:`handler` in a long-lived process do."""
        if self._intake is not None and self._runtime is not None:
            await self._intake.stop()
            await close_runtime(self._runtime)
            self._intake = self._runtime = None


def _refusing_event_streams(send: Send) -> Send:
    """``send`` that raises :class:`_EventStream` instead of starting an SSE response."""

    async def guarded(message: Message) -> None:
        if message["type"] == "http.response.start":
            for name, value in message.get("headers", ()):
                if name.lower() == b"content-type" and value.startswith(b"text/event-stream"):
                    raise _EventStream
        await send(message)

    return guarded


app = LambdaApp()
handler = Mangum(app, lifespan="off")
"""The Lambda entry point: ``handler(event, context)`` for API Gateway (HTTP API v2 and REST),
ALB and function-URL events."""
