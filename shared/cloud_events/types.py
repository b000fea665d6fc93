"""The CloudEvents lg-deploy sends and accepts: ``type`` names, topics, and how to build them.

Events follow CloudEvents 1.0 through the ``cloudevents`` 2.x core API
(``cloudevents.core.v1.event.CloudEvent``); ``datacontenttype`` is always
``application/json``. Extensions (lowercase, at most 20 characters, as the spec advises):
``runid``, ``threadid``, ``assistantid`` and ``partitionkey`` (the thread id: the Kafka record
key, so one thread's events stay in one partition, in order).

========================  ===================  ====================================================
``type``                  topic suffix         ``data``
========================  ===================  ====================================================
dev.lgdeploy.run.requested  run-requests       ``{"run_id", "thread_id"}``: a run row is committed
dev.lgdeploy.run.ended      run-lifecycle      ``{"run_id", "thread_id", "assistant_id", "status"}``
dev.lgdeploy.cron.tick      cron-ticks         anything; the event ``time`` is the tick's "now"
dev.lgdeploy.build.requested build-requests    ``{"repo", "ref", "config"}``
dev.lgdeploy.run.create     (HTTP to intake)   a run request from another system (README)
(any)                       dead-letters       the failed event, plus ``lgderror`` and ``lgdtopic``
========================  ===================  ====================================================
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

import orjson
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.v1.event import CloudEvent

RUN_REQUESTED: Final = "dev.lgdeploy.run.requested"
RUN_ENDED: Final = "dev.lgdeploy.run.ended"
CRON_TICK: Final = "dev.lgdeploy.cron.tick"
PING: Final = "dev.knative.sources.ping"
"""Knative PingSource's ``type``; the cron function treats it as a tick."""
BUILD_REQUESTED: Final = "dev.lgdeploy.build.requested"
RUN_CREATE: Final = "dev.lgdeploy.run.create"

RUN_REQUESTS_TOPIC: Final = "run-requests"
RUN_LIFECYCLE_TOPIC: Final = "run-lifecycle"
CRON_TICKS_TOPIC: Final = "cron-ticks"
BUILD_REQUESTS_TOPIC: Final = "build-requests"
DEAD_LETTERS_TOPIC: Final = "dead-letters"
TOPICS: Final = (
    RUN_REQUESTS_TOPIC,
    RUN_LIFECYCLE_TOPIC,
    CRON_TICKS_TOPIC,
    BUILD_REQUESTS_TOPIC,
    DEAD_LETTERS_TOPIC,
)
"""Suffixes of every topic lg-deploy uses; the full name is ``kafka_topic_prefix + suffix``."""

JSON: Final = "application/json"
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")


def new_event(
    type_: str,
    source: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    **extensions: str,
) -> CloudEvent:
    """A CloudEvent with a fresh ``id``, ``time`` now and JSON ``data``.

    ``extensions`` (for example ``runid=…``, ``partitionkey=…``) are checked against the
    spec's naming advice (lowercase letters and digits, at most 20 characters): ValueError
    otherwise. Empty values are left out.
    """
    attributes: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "source": source,
        "datacontenttype": JSON,
    }
    if subject:
        attributes["subject"] = subject
    for name, value in extensions.items():
        if not _EXTENSION_NAME.match(name):
            raise ValueError(f"CloudEvent extension name {name!r} is not 1-20 [a-z0-9]")
        if value:
            attributes[name] = value
    return CloudEvent(attributes=attributes, data=data)


CONTEXT_EXTENSIONS = {
    "tenant_id": "tenantid",
    "request_id": "requestid",
    "traceparent": "traceparent",
    "tracestate": "tracestate",
}
"""The request context's carried fields (``RequestContext.carried``) → their CloudEvent
extension names (``traceparent`` and ``tracestate``: the CloudEvents Distributed Tracing
extension)."""


def context_extensions(carried: Mapping[str, Any]) -> dict[str, str]:
    """The CloudEvent extensions of a request context's ``carried`` fields (those present)."""
    return {ext: str(carried[key]) for key, ext in CONTEXT_EXTENSIONS.items() if carried.get(key)}


def run_requested(
    source: str, run_id: str, thread_id: str, context: Mapping[str, Any] | None = None
) -> CloudEvent:
    """``dev.lgdeploy.run.requested`` for a committed run row (the executors' wake-up), with
    the extensions of the request ``context`` that created it (its ``carried`` fields)."""
    return new_event(
        RUN_REQUESTED,
        source,
        {"run_id": run_id, "thread_id": thread_id},
        subject=run_id,
        runid=run_id,
        threadid=thread_id,
        partitionkey=thread_id,
        **context_extensions(context or {}),
    )


def run_ended(
    source: str,
    run_id: str,
    thread_id: str,
    assistant_id: str,
    status: str,
    context: Mapping[str, Any] | None = None,
) -> CloudEvent:
    """``dev.lgdeploy.run.ended``: the run reached ``status`` (success, error, interrupted,
    timeout); its webhook delivery, if any, is already in the outbox. Extensions as
    :func:`run_requested`'s."""
    return new_event(
        RUN_ENDED,
        source,
        {"run_id": run_id, "thread_id": thread_id, "assistant_id": assistant_id, "status": status},
        subject=run_id,
        runid=run_id,
        threadid=thread_id,
        assistantid=assistant_id,
        partitionkey=thread_id,
        **context_extensions(context or {}),
    )


def with_extensions(event: BaseCloudEvent, **extensions: str) -> CloudEvent:
    """A copy of ``event`` with ``extensions`` added (the dead-letter topic's annotations)."""
    attributes = {**event.get_attributes(), **extensions}
    return CloudEvent(attributes=attributes, data=event.get_data())


def data_object(event: BaseCloudEvent) -> dict[str, Any]:
    """``event``'s data as a JSON object; ValueError when it is something else."""
    data = event.get_data()
    if isinstance(data, bytes | str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"CloudEvent data is not JSON: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("CloudEvent data must be a JSON object")
    return data
