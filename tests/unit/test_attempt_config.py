"""An attempt's LangGraph config gets the node-span callback only when its span records."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

from shared.execution.attempt import build_config
from shared.tracing.graph import GraphSpans
from tests.unit.test_auth_user import row


def test_a_sampled_attempt_gets_the_node_span_callback() -> None:
    tracer = TracerProvider(sampler=ALWAYS_ON).get_tracer("test")
    with tracer.start_as_current_span("lgd.run.attempt"):
        config = build_config(row(None))  # type: ignore[arg-type]
    assert [type(c) for c in config["callbacks"]] == [GraphSpans]  # type: ignore[union-attr]


def test_an_unsampled_or_untraced_attempt_gets_no_callback() -> None:
    tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    with tracer.start_as_current_span("lgd.run.attempt"):
        assert "callbacks" not in build_config(row(None))  # type: ignore[arg-type]
    assert not trace.get_current_span().is_recording()
    assert "callbacks" not in build_config(row(None))  # type: ignore[arg-type]
