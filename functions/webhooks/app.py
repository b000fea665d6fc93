"""The webhook function's HTTP surface: ``POST /`` takes one CloudEvent (binary or structured).

``dev.lgdeploy.run.ended`` (from the ``run-lifecycle`` topic through a KafkaSource) and ticks
(``dev.lgdeploy.cron.tick``, PingSource's ``dev.knative.sources.ping``) deliver the webhooks
due now and answer ``202`` once every attempt's outcome is recorded; see
:mod:`shared.cloud_events.http` for ``400``/``503``. Plus ``GET /ok`` and ``GET /metrics``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from shared.cloud_events.http import Handler, cloudevent_endpoint
from shared.runtime.context import Runtime
from shared.runtime.ops import ops_routes


def create_app(rt: Runtime, handle: Handler) -> Starlette:
    """``POST /`` → ``handle(event)``; ``GET /ok``, ``GET /metrics``."""
    return Starlette(
        routes=[Route("/", cloudevent_endpoint(handle), methods=["POST"]), *ops_routes(rt)]
    )
