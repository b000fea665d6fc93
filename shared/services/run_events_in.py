"""Runs requested by CloudEvents from other systems (``dev.lgdeploy.run.create``).

Source of the behaviour: the Agent Server API's run creation (``POST /threads/{thread_id}/runs``
and ``POST /runs``), reached through a CloudEvent instead of a REST call. Delivery is
at-least-once, so the event's ``source`` and ``id`` become the run's idempotency key: a
redelivered event returns the run the first delivery created, or only its ``run_id`` when that
run is gone (a stateless run goes with its thread at its end): the event's effect is done, so
the redelivery is accepted, not refused (at-least-once brokers such as Knative's retry a 409
and then dead-letter the event).
"""

from __future__ import annotations

from typing import Any

from cloudevents.core.base import BaseCloudEvent
from pydantic import ValidationError

from shared.api.cloudevents import RunCreateEventData
from shared.auth.context import RequestContext
from shared.cloud_events.http import InvalidEvent, check_type
from shared.cloud_events.types import RUN_CREATE, data_object
from shared.errors import RunGone
from shared.runtime.context import Runtime
from shared.services.runs import create_run
from shared.tracing.events import event_trace, processing
from shared.tracing.propagation import current_trace

MAX_KEY = 255


def idempotency_key(event: BaseCloudEvent) -> str:
    """The run's idempotency key for ``event``: ``cloudevent:<source>:<id>``, at most 255
    characters (long ones keep their end, where the ``id`` is)."""
    key = f"cloudevent:{event.get_source()}:{event.get_id()}"
    return key[-MAX_KEY:]


async def create_run_from_event(
    rt: Runtime, ctx: RequestContext, event: BaseCloudEvent
) -> dict[str, Any]:
    """Create the run ``event`` asks for, in the name of ``ctx`` (the caller that delivered
    it: the run is its tenant's); returns the API Run object (for an event delivered
    before whose run no longer exists, ``{"run_id"}`` of that run).

    The run continues the trace the event carries, if any: the ``CloudEvents Process <type>``
    span (:func:`shared.tracing.events.processing`) is the run's parent; while tracing is off,
    the run's context takes the event's ``traceparent``/``tracestate`` as they are.

    Raises InvalidEvent (another ``type``, or ``data`` that is not a valid run request) and
    the domain errors of :func:`shared.services.runs.create_run` (NotFound, Invalid,
    BadRequest, Conflict); nothing is written when it raises.
    """
    check_type(event, {RUN_CREATE})
    try:
        data = RunCreateEventData.model_validate(data_object(event))
    except (ValidationError, ValueError) as exc:
        raise InvalidEvent(f"invalid {RUN_CREATE} data: {exc}") from exc
    carried = event_trace(event)
    with processing(event):
        try:
            return await create_run(
                rt,
                ctx.in_trace(current_trace() or carried),
                data.thread_id,
                data,
                idempotency_key=idempotency_key(event),
            )
        except RunGone as gone:
            return {"run_id": gone.run_id}
