"""W3C Trace Context in and out of lg-deploy's own carriers: request contexts, bus payloads,
CloudEvent extensions, stored ``request_context`` columns.

Everything goes through ``opentelemetry.propagate`` (the W3C ``traceparent``/``tracestate``
propagator unless ``OTEL_PROPAGATORS`` says otherwise). While tracing is off no span is ever
current, so :func:`edge_trace` hands the incoming headers through unchanged and
:func:`parent_context` only carries them.

Source: W3C Trace Context (``traceparent``, ``tracestate``); the CloudEvents Distributed
Tracing extension (the same two attributes on an event).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, format_span_id, format_trace_id

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"


class TraceFields(TypedDict):
    """A request context's trace: W3C ``traceparent`` and ``tracestate`` (``None``: absent)."""

    traceparent: str | None
    tracestate: str | None


def current_trace() -> TraceFields | None:
    """The trace fields naming the current span as parent; ``None`` when no span is current
    (always so while tracing is off)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if TRACEPARENT not in carrier:
        return None
    return TraceFields(traceparent=carrier[TRACEPARENT], tracestate=carrier.get(TRACESTATE))


def edge_trace(headers: Mapping[str, str]) -> TraceFields:
    """The trace of a request context built at the edge from a request with ``headers``: its
    server span when tracing is on (the incoming ``traceparent`` is that span's parent), else
    the incoming ``traceparent``/``tracestate`` headers as they are."""
    return current_trace() or TraceFields(
        traceparent=headers.get(TRACEPARENT), tracestate=headers.get(TRACESTATE)
    )


def parent_context(traceparent: str | None, tracestate: str | None = None) -> Context:
    """An OpenTelemetry context whose current span is the one ``traceparent`` names (an empty
    context, so a new trace, when it is ``None`` or malformed)."""
    carrier = {TRACEPARENT: traceparent or "", TRACESTATE: tracestate or ""}
    return propagate.extract({k: v for k, v in carrier.items() if v}, context=Context())


def link_to(traceparent: str | None, tracestate: str | None = None) -> list[Link]:
    """A span link to the span ``traceparent`` names, or none when it names none."""
    span = trace.get_current_span(parent_context(traceparent, tracestate)).get_span_context()
    return [Link(span)] if span.is_valid else []


def current_ids() -> dict[str, str]:
    """``{"trace_id", "span_id"}`` of the current span as lowercase hex (32 and 16 digits),
    for log lines; ``{}`` when no span is current (tracing off)."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return {}
    return {"trace_id": format_trace_id(span.trace_id), "span_id": format_span_id(span.span_id)}
