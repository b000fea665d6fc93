"""lg-deploy's own spans: their names, the correlation attributes and the tracer.

Span names (``lgd.*``; everything else comes from the instrumentations and follows the OTel
semantic conventions): ``lgd.run.attempt`` (one execution on an executor, from the moment
its claim was asked; a retry or reclaim is a new one linked to the previous: an attempt's span
id is :func:`attempt_span_id` of its run and number), ``lgd.run.reclaim`` (a
sweep found the run's lease expired), ``lgd.webhook.deliver`` (one delivery attempt),
``lgd.cron.fire`` (a cron fired: a new trace linked to the cron's creation),
and the event ``lgd.checkpoint.write`` on the attempt span each time the checkpointer stored a
checkpoint (``langgraph.checkpoint_id``) or a task's pending writes (``langgraph.task_id``;
``langgraph.checkpoint_ns`` in a subgraph): an event, not a span, as there are several per
step.

Correlation attributes (:data:`RUN_ATTRIBUTES` and the others below), on lg-deploy's spans and on
the intake server span (tenant and request id): ``lgd.tenant``, ``lgd.request_id``,
``lgd.assistant_id``, ``lgd.graph_id``, ``lgd.thread_id``, ``lgd.run_id``, ``lgd.attempt``,
``lgd.executor_id``, ``lgd.cron_id``, ``lgd.delivery_id``, ``lgd.delivery_attempt``,
``lgd.build_id`` (the builder's ``CloudEvents Process`` span), and
``lgd.outcome`` (how an attempt, reclaim or delivery ended: an attempt's ``run_attempts``
outcome, the status a reclaim left, ``delivered``/``retry``/``failed``); ids as strings,
counters as ints. Never secrets, inputs or outputs (see
:mod:`shared.tracing.graph` for the setting that adds node inputs and outputs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, TraceFlags, Tracer

TENANT = "lgd.tenant"
REQUEST_ID = "lgd.request_id"
ASSISTANT_ID = "lgd.assistant_id"
GRAPH_ID = "lgd.graph_id"
THREAD_ID = "lgd.thread_id"
RUN_ID = "lgd.run_id"
ATTEMPT = "lgd.attempt"
EXECUTOR_ID = "lgd.executor_id"
CRON_ID = "lgd.cron_id"
DELIVERY_ID = "lgd.delivery_id"
DELIVERY_ATTEMPT = "lgd.delivery_attempt"
OUTCOME = "lgd.outcome"
BUILD_ID = "lgd.build_id"

RUN_ATTEMPT = "lgd.run.attempt"
RUN_RECLAIM = "lgd.run.reclaim"
WEBHOOK_DELIVER = "lgd.webhook.deliver"
CRON_FIRE = "lgd.cron.fire"
CHECKPOINT_WRITE = "lgd.checkpoint.write"
CHECKPOINT_ID = "langgraph.checkpoint_id"
CHECKPOINT_NS = "langgraph.checkpoint_ns"
TASK_ID = "langgraph.task_id"


PRESET_SPAN_ID: ContextVar[int | None] = ContextVar("preset_span_id", default=None)
"""The id the next span started in this context gets (``shared.tracing.setup.PresetSpanIds``),
``None`` for a random one."""


def attempt_span_id(run_id: object, attempt: int) -> int:
    """The span id of attempt ``attempt`` of run ``run_id``: 64 bits of a BLAKE2b digest of
    both, so a later attempt can link to an earlier one's span without storing it (unique per
    run and attempt; never 0, the W3C invalid id)."""
    digest = hashlib.blake2b(f"{run_id}/{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") or 1


@contextmanager
def preset_span_id(span_id: int) -> Iterator[None]:
    """The next span started inside the block gets ``span_id`` (the setup's id generator)."""
    token = PRESET_SPAN_ID.set(span_id)
    try:
        yield
    finally:
        PRESET_SPAN_ID.reset(token)


def previous_attempt_links(parent: Context, run_id: object, attempt: int) -> list[Link]:
    """A span link from attempt ``attempt`` of run ``run_id`` to the previous attempt's span
    in the run's trace (``parent``'s); none for the first attempt or without a trace."""
    run_trace = trace.get_current_span(parent).get_span_context()
    if attempt <= 1 or not run_trace.is_valid:
        return []
    previous = SpanContext(
        run_trace.trace_id,
        attempt_span_id(run_id, attempt - 1),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return [Link(previous, {ATTEMPT: attempt - 1})]


@cache
def tracer() -> Tracer:
    """lg-deploy's tracer (the no-op one while tracing is off). Made once: the SDK's
    ``get_tracer`` builds a new tracer on each call, which cost more than the span itself. Made
    before :func:`shared.tracing.setup.configure_tracing`, it is the API's proxy tracer, which
    uses the SDK's once it is installed."""
    return trace.get_tracer("lg-deploy")


def run_attributes(row: Mapping[str, Any]) -> dict[str, str | int]:
    """The correlation attributes of a run from a row holding its columns (a ``runs`` row, a
    run-ending statement's row or a webhook delivery): ``tenant_id``, ``assistant_id``,
    ``thread_id``, ``run_id``, ``metadata.graph_id`` and ``attempt``, those present."""
    metadata = row.get("metadata") or {}
    found: dict[str, Any] = {
        TENANT: row.get("tenant_id"),
        ASSISTANT_ID: row.get("assistant_id"),
        GRAPH_ID: metadata.get("graph_id"),
        THREAD_ID: row.get("thread_id"),
        RUN_ID: row.get("run_id"),
    }
    attributes: dict[str, str | int] = {k: str(v) for k, v in found.items() if v is not None}
    if row.get("attempt") is not None:
        attributes[ATTEMPT] = int(row["attempt"])
    return attributes
