"""Turn OpenTelemetry tracing on for this process, from the standard ``OTEL_*`` environment.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, unless
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``; off, nothing is installed (the API's
no-op tracer stays, no library is patched, no response header is added). On:

- a ``TracerProvider`` whose resource is ``service.name`` ``lg-deploy-<function>`` unless
  ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` names one, plus the rest of
  ``OTEL_RESOURCE_ATTRIBUTES``; its sampler is the one ``OTEL_TRACES_SAMPLER`` /
  ``OTEL_TRACES_SAMPLER_ARG`` choose (default ``parentbased_always_on``), except that a
  client, producer or consumer span with no parent is dropped (:class:`WorkRootsOnly`);
- a ``BatchSpanProcessor`` over the OTLP/HTTP exporter (``OTEL_EXPORTER_OTLP_*``: endpoint,
  headers, timeout, compression; ``OTEL_BSP_*``, but batches of :data:`EXPORT_BATCH_SIZE`
  spans unless ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` is set). The processor suppresses
  instrumentation while it exports and the exporter sends through ``requests``, which is not
  instrumented: no span is made of an export. The provider flushes and shuts down at
  interpreter exit (``shutdown_on_exit``), which every function reaches after SIGTERM/SIGINT;
- the W3C Trace Context propagator (the API default, ``OTEL_PROPAGATORS``) and the
  ``traceresponse`` response propagator (W3C Trace Context Level 2), which the ASGI
  middleware of :func:`instrument_app` adds to every traced response;
- the instrumentations of httpx (webhooks, and model calls of graphs whose clients use it),
  httpx2 (model calls through ``openai`` 3, whose client is built on it; when installed) and
  aiokafka (the bus hops),
  and with ``LG_DEPLOY_TRACE_STATEMENTS`` those of asyncpg (the API's database) and psycopg (the
  checkpointer and store): a span per SQL statement, some 20 per run, which cost about a third
  of the runs/s when on (``tests/bench/bench_tracing.py``); without them the checkpoint writes
  are spans of the checkpointer's own (``lgd.checkpoint.write``).
  ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (comma-separated names) leaves any of them out.

Source: OpenTelemetry SDK environment variables specification; opentelemetry-python's
``opentelemetry.instrumentation.propagators.TraceResponsePropagator``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor, HTTPXClientInstrumentor
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    Decision,
    Sampler,
    SamplingResult,
)
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.http import sanitize_method
from opentelemetry.util.types import Attributes
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.tracing import spans

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
EXCLUDED_URLS = "/ok$,/metrics$"
"""Paths never traced by default (health checks and scrapes);
``OTEL_PYTHON_FASTAPI_EXCLUDED_URLS`` replaces the list."""

INSTRUMENTORS: dict[str, Callable[[], Any]] = {
    "httpx": HTTPXClientInstrumentor,
    "httpx2": HTTPX2ClientInstrumentor,
    "aiokafka": AIOKafkaInstrumentor,
}
"""The library instrumentations installed with tracing on (each only when its library is
installed), by the names ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` uses (``fastapi``, the
app's own, is :func:`instrument_app`'s)."""
STATEMENT_INSTRUMENTORS: dict[str, Callable[[], Any]] = {
    "asyncpg": AsyncPGInstrumentor,
    "psycopg": PsycopgInstrumentor,
}
"""The SQL statement instrumentations (the API's asyncpg, the checkpointer's and store's
psycopg), installed too with ``statements``: a span per statement."""

EXPORT_BATCH_SIZE = 64
"""Spans per export unless ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` says otherwise (the SDK's default
is 512). The exporter thread encodes a batch in one go, some 30 µs a span, holding the GIL: 512
spans stall request handling for several of Python's 5 ms switch intervals, which showed in the
p99 latencies of ``tests/bench/bench_tracing.py``; 64 take about 2 ms."""

_enabled = False


def _disabled_instrumentations(environ: Mapping[str, str]) -> set[str]:
    """The instrumentations ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (comma-separated names,
    as for ``opentelemetry-instrument``) turns off."""
    names = environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
    return {name.strip() for name in names.split(",") if name.strip()}


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` asks for traces: an OTLP endpoint is set, the SDK is not disabled
    and the traces exporter is not ``none``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(environ.get(name) for name in ENDPOINT_VARIABLES)


class PresetSpanIds(RandomIdGenerator):
    """Random ids, except that a span started inside :func:`shared.tracing.spans.preset_span_id`
    gets the id preset there (an attempt span: :func:`shared.tracing.spans.attempt_span_id`)."""

    def generate_span_id(self) -> int:
        """The preset id of this context, else a random one."""
        return spans.PRESET_SPAN_ID.get() or super().generate_span_id()


class WorkRootsOnly(Sampler):
    """The environment's sampler, except that a client, producer or consumer span without a
    parent is dropped: a database query, a Kafka send or poll of a background loop (claims,
    heartbeats, sweeps, timers) is not a trace of its own. Work starts traces through server
    spans (requests) and lg-deploy's own spans (attempts, cron firings, deliveries)."""

    def __init__(self, delegate: Sampler) -> None:
        self._delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """DROP for an orphan client/producer/consumer span, else the delegate's decision."""
        parent = trace.get_current_span(parent_context).get_span_context()
        if not parent.is_valid and kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER):
            return SamplingResult(Decision.DROP)
        return self._delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        """``WorkRootsOnly{<delegate>}``."""
        return f"WorkRootsOnly{{{self._delegate.get_description()}}}"


def resource(default_service: str) -> Resource:
    """The process's resource: ``service.name`` ``default_service`` unless the environment
    names one (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``), which wins."""
    from_env = OTELResourceDetector().detect().attributes
    return Resource.create({SERVICE_NAME: default_service, **from_env})


def configure_tracing(
    service_name: str, *, statements: bool = False, environ: Mapping[str, str] = os.environ
) -> bool:
    """Install tracing for this process as the module docstring says, when :func:`wanted`;
    ``service_name`` is the default ``service.name`` (``lg-deploy-<function>``);
    ``statements`` (setting ``LG_DEPLOY_TRACE_STATEMENTS``) adds the SQL statement
    instrumentations (:data:`STATEMENT_INSTRUMENTORS`). Call it once,
    first thing at start-up (before pools and clients exist: the instrumentations patch
    their classes); a second call does nothing. Returns whether tracing is on."""
    global _enabled
    if _enabled or not wanted(environ):
        return _enabled
    provider = TracerProvider(resource=resource(service_name), id_generator=PresetSpanIds())
    provider.sampler = WorkRootsOnly(provider.sampler)  # the one OTEL_TRACES_SAMPLER* chose
    batch = None if "OTEL_BSP_MAX_EXPORT_BATCH_SIZE" in environ else EXPORT_BATCH_SIZE
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), max_export_batch_size=batch))
    trace.set_tracer_provider(provider)
    set_global_response_propagator(TraceResponsePropagator())
    disabled = _disabled_instrumentations(environ)
    chosen = INSTRUMENTORS | (STATEMENT_INSTRUMENTORS if statements else {})
    for name, instrumentor in chosen.items():
        if name not in disabled:
            instrumentor().instrument()  # a library not installed: skipped, logged at DEBUG
    _enabled = True
    return True


def instrument_app(app: FastAPI) -> None:
    """Trace every request of ``app`` (but :data:`EXCLUDED_URLS`) with a server span of the
    ASGI instrumentation (``OpenTelemetryMiddleware``), the outermost of the app's middleware so
    that it wraps authentication and the request context sees it; no per-chunk
    ``send``/``receive`` spans (streams send thousands). The span is named ``{method}`` when it
    starts and ``{method} {http.route}`` once the router has matched (:class:`RouteName`):
    FastAPI's instrumentation instead matches every request against all routes up front, which
    cost more than the rest of the span. ``fastapi`` or ``asgi`` in
    ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` leaves it out. No-op while tracing is off."""
    if not _enabled or _disabled_instrumentations(os.environ) & {"fastapi", "asgi"}:
        return
    app.add_middleware(RouteName)
    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", EXCLUDED_URLS),
        default_span_details=_method_only,
        exclude_spans=["receive", "send"],
    )


def _method_only(scope: Scope) -> tuple[str, dict[str, str]]:
    """A server span's name before routing: the request's method (``HTTP`` for a method
    outside the standard ones), as the HTTP semantic conventions name a span without a route."""
    method = sanitize_method(str(scope.get("method", "")).strip())
    return ("HTTP" if method == "_OTHER" else method), {}


class RouteName:
    """ASGI middleware, just inside the server span: when the response starts, names the span
    ``{method} {route}`` and sets ``http.route`` from the route the router matched (FastAPI
    records it as ``scope["route"]``); a request answered before routing (a 401, a 404) keeps
    the method alone. Source: OpenTelemetry HTTP semantic conventions, server span name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if not span.is_recording():  # not sampled (or not HTTP: no server span)
            await self.app(scope, receive, send)
            return

        async def named_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                path = getattr(scope.get("route"), "path", None)
                if isinstance(path, str):
                    span.update_name(f"{_method_only(scope)[0]} {path}")
                    span.set_attribute(HTTP_ROUTE, path)
            await send(message)

        await self.app(scope, receive, named_send)
