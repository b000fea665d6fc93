"""The builder's HTTP surface.

- ``POST /``: one build request CloudEvent (binary or structured mode, as a KafkaSource or a
  Broker delivers it). ``202`` with an empty body and ``Location: /builds/{build_id}`` once the
  build has ended (``succeeded`` or ``failed``: both are a handled request); ``400`` when the
  request is not a CloudEvent or not a valid build request; ``503`` when PostgreSQL or the
  repository is unreachable (the sender retries; the redelivery resumes the same build).
- ``GET /builds/{build_id}``: the build as JSON (:class:`shared.builds.models.Build`); ``404``.
- ``GET /ok``, ``GET /metrics``: :mod:`shared.runtime.ops`.

All but the last two take only callers holding the internal token
(:mod:`shared.runtime.internal`).
"""

from __future__ import annotations

from cloudevents.core.base import BaseCloudEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from functions.builder.handler import handle_build_request
from shared.builds.service import get_build
from shared.cloud_events.http import cloudevent_endpoint, retry_response
from shared.db.pool import DB_ERRORS
from shared.errors import NotFound
from shared.runtime.context import Runtime
from shared.runtime.internal import internal_app


def create_app(rt: Runtime) -> Starlette:
    """The builder's routes over ``rt`` (see the module docstring)."""

    async def receive(event: BaseCloudEvent) -> dict[str, str]:
        result = await handle_build_request(rt, event)
        return {"Location": f"/builds/{result.build.build_id}"}

    async def show(request: Request) -> Response:
        try:
            build = await get_build(rt.db.pool, request.path_params["build_id"])
        except NotFound as exc:
            return JSONResponse({"detail": exc.detail}, status_code=404)
        except DB_ERRORS as exc:
            return retry_response(exc)
        return JSONResponse(build.model_dump(mode="json"))

    return internal_app(
        rt,
        [
            Route("/", cloudevent_endpoint(receive), methods=["POST"]),
            Route("/builds/{build_id}", show, methods=["GET"]),
        ],
    )
