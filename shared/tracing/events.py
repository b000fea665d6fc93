"""The span of a CloudEvent handled by a function: ``CloudEvents Process <type>``.

A consumer span (OTel CloudEvents semantic conventions: ``cloudevents.event_id``,
``cloudevents.event_source``, ``cloudevents.event_type``) that continues the trace the event
carries in the CloudEvents Distributed Tracing extension (``traceparent``, ``tracestate``) and
links to the span current when it starts (the HTTP request or Kafka poll that delivered it);
without a carried trace it is a child of that current span.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cloudevents.core.base import BaseCloudEvent
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind

from shared.tracing import spans
from shared.tracing.propagation import TraceFields, parent_context


def event_trace(event: BaseCloudEvent) -> TraceFields | None:
    """The trace ``event`` carries (the CloudEvents Distributed Tracing extension:
    ``traceparent``, ``tracestate``), or ``None``."""
    traceparent = event.get_extension("traceparent")
    if not traceparent:
        return None
    state = event.get_extension("tracestate")
    return TraceFields(traceparent=str(traceparent), tracestate=str(state) if state else None)


@contextmanager
def processing(event: BaseCloudEvent) -> Iterator[Span]:
    """The current span while ``event`` is handled, as the module docstring says (the no-op
    span while tracing is off)."""
    carried = event_trace(event)
    with spans.tracer().start_as_current_span(
        f"CloudEvents Process {event.get_type()}",
        parent_context(carried["traceparent"], carried["tracestate"]) if carried else None,
        kind=SpanKind.CONSUMER,
        links=[Link(trace.get_current_span().get_span_context())] if carried else None,
        attributes={
            "cloudevents.event_id": event.get_id(),
            "cloudevents.event_source": event.get_source(),
            "cloudevents.event_type": event.get_type(),
        },
    ) as span:
        yield span
