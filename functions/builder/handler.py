"""The builder's handler: one ``dev.lgdeploy.build.requested`` CloudEvent in, one recorded
build out, whichever transport delivered it (HTTP ``POST /`` or the ``build-requests`` topic).
"""

from __future__ import annotations

from cloudevents.core.base import BaseCloudEvent
from prometheus_client import Counter

from shared.builds.models import parse_build_event
from shared.builds.service import BuildResult, run_build
from shared.runtime.context import Runtime
from shared.tracing import spans
from shared.tracing.events import processing

BUILDS = Counter("lgd_builds_total", "Builds that ended, by status", ["status"])
for _status in ("succeeded", "failed"):
    BUILDS.labels(_status)


async def handle_build_request(rt: Runtime, event: BaseCloudEvent) -> BuildResult:
    """Build the repository ``event`` asks for, once per event ``source`` + ``id``, and
    return the build as recorded (``succeeded`` or ``failed``, or as an earlier delivery of
    the same event left it), in a ``CloudEvents Process <type>`` span of the event's trace
    with the build's ``lgd.build_id`` and ``lgd.outcome`` (its status).

    Raises :class:`~shared.cloud_events.http.InvalidEvent` (not a build request: do not
    retry), :class:`~shared.builds.errors.BuildRetry` (the repository could not be reached;
    an ``OSError``) and database errors: deliver the event again."""
    request = parse_build_event(event)
    with processing(event) as span:
        result = await run_build(
            rt.db.pool,
            rt.settings,
            request,
            event_source=event.get_source(),
            event_id=event.get_id(),
        )
        span.set_attributes(
            {spans.BUILD_ID: str(result.build.build_id), spans.OUTCOME: result.build.status}
        )
    if result.ended_now:
        BUILDS.labels(result.build.status).inc()
    return result
