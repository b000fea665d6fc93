"""Runs requested by CloudEvents from other systems (``dev.lgdeploy.run.create``).

Source of the behaviour: the Agent Server API's run creation (``POST /threads/{thread_id}/runs``
and ``POST /runs``), reached through a CloudEvent instead of a REST call. Delivery is
at-least-once, so the event's ``source`` and ``id`` become the run's idempotency key: a
redelivered event returns the run the first delivery created.
"""

from __future__ import annotations

from typing import Any

from cloudevents.core.base import BaseCloudEvent
from pydantic import ValidationError

from shared.api.cloudevents import RunCreateEventData
from shared.cloud_events.http import InvalidEvent, check_type
from shared.cloud_events.types import RUN_CREATE, data_object
from shared.runtime.context import Runtime
from shared.runtime.runs import create_run

MAX_KEY = 255


def idempotency_key(event: BaseCloudEvent) -> str:
    """The run's idempotency key for ``event``: ``cloudevent:<source>:<id>``, at most 255
    characters (long ones keep their end, where the ``id`` is)."""
    key = f"cloudevent:{event.get_source()}:{event.get_id()}"
    return key[-MAX_KEY:]


async def create_run_from_event(rt: Runtime, event: BaseCloudEvent) -> dict[str, Any]:
    """Create the run ``event`` asks for; returns the API Run object.

    Raises InvalidEvent (another ``type``, or ``data`` that is not a valid run request) and
    the domain errors of :func:`shared.runtime.runs.create_run` (NotFound, Invalid,
    BadRequest, Conflict); nothing is written when it raises.
    """
    check_type(event, {RUN_CREATE})
    try:
        data = RunCreateEventData.model_validate(data_object(event))
    except (ValidationError, ValueError) as exc:
        raise InvalidEvent(f"invalid {RUN_CREATE} data: {exc}") from exc
    return await create_run(rt, data.thread_id, data, idempotency_key=idempotency_key(event))
