"""The builder's HTTP surface.

- ``POST /``: one build request CloudEvent (binary or structured mode, as a KafkaSource or a
  Broker delivers it). ``202`` with an empty body and ``Location: /builds/{build_id}`` once the
  build has ended (``succeeded`` or ``failed``: both are a handled request); ``400`` when the
  request is not a CloudEvent or not a valid build request; ``503`` when PostgreSQL or the
  repository is unreachable (the sender retries; the redelivery resumes the same build).
- ``GET /builds/{build_id}``: the build as JSON (:class:`shared.builds.models.Build`); ``404``.
- ``GET /ok``, ``GET /metrics``: :mod:`shared.runtime.ops`.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from functions.builder.handler import handle_build_request
from shared.builds.errors import BuildRetry
from shared.builds.service import get_build
from shared.cloud_events.http import TRANSIENT_ERRORS, InvalidEvent, parse
from shared.errors import NotFound
from shared.runtime.context import Runtime
from shared.runtime.ops import ops_routes

log = logging.getLogger(__name__)


def _retry(exc: BaseException) -> Response:
    """``503`` for a failure a redelivery may not meet."""
    log.warning("build request not handled, the sender should retry: %s", exc)
    detail = str(exc) if isinstance(exc, BuildRetry) else "database unavailable; retry"
    return JSONResponse({"detail": detail}, status_code=503)


def create_app(rt: Runtime) -> Starlette:
    """The builder's routes over ``rt`` (see the module docstring)."""

    async def receive(request: Request) -> Response:
        try:
            event = parse(dict(request.headers), await request.body())
            result = await handle_build_request(rt, event)
        except InvalidEvent as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        except TRANSIENT_ERRORS as exc:
            return _retry(exc)
        location = f"/builds/{result.build.build_id}"
        return Response(status_code=202, headers={"Location": location})

    async def show(request: Request) -> Response:
        try:
            build = await get_build(rt.db.pool, request.path_params["build_id"])
        except NotFound as exc:
            return JSONResponse({"detail": exc.detail}, status_code=404)
        except TRANSIENT_ERRORS as exc:
            return _retry(exc)
        return JSONResponse(build.model_dump(mode="json"))

    return Starlette(
        routes=[
            Route("/", receive, methods=["POST"]),
            Route("/builds/{build_id}", show, methods=["GET"]),
            *ops_routes(rt),
        ]
    )
