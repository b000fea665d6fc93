"""OpenTelemetry traces: one trace per run across functions (a leaf: importable from anywhere).

:mod:`~shared.tracing.setup` turns tracing on from the ``OTEL_*`` environment;
:mod:`~shared.tracing.propagation` moves W3C trace context through lg-deploy's carriers;
:mod:`~shared.tracing.spans` names lg-deploy's own spans and attributes;
:mod:`~shared.tracing.graph` makes a span per graph node, tool and model call.
"""
