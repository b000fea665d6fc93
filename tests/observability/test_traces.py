"""One trace per run across functions, read back from a real Jaeger (issue 10, "Tested against
a real trace backend").

The functions run as processes on Kafka and PostgreSQL (tests/topology.py) with the standard
``OTEL_*`` environment pointing at Jaeger v2; a tool-calling graph on the model stub runs with a
webhook, and the test reads the run's trace from Jaeger's query API. A SIGKILLed executor's run
shows the reclaim and a second attempt in the same trace, linked to the first; so does a run
its retry policy tries again (on a dev server). A run requested by a CloudEvent continues the
trace the event carries. Without ``OTEL_*`` nothing is installed and no response header is
added.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider

from shared.tracing.setup import configure_tracing, wanted
from tests.faults.helpers import eventually, run_attempts
from tests.observability.jaeger import Jaeger, Span
from tests.support import Server, dev_server, executor_id, sdk
from tests.topology import Topology
from tests.webhook_receiver import Receiver

INTAKE, EXECUTOR, WEBHOOKS = "lg-deploy-intake", "lg-deploy-executor", "lg-deploy-webhooks"
TOOL_CALL = 'CALL get_weather {"city": "Paris"}\nSAY done'


async def _create_run(intake: Server, thread_id: str, body: dict[str, Any]) -> tuple[dict, str]:
    """``POST /threads/{thread_id}/runs`` → (the run, its ``traceresponse`` header)."""
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        response = await http.post(f"/threads/{thread_id}/runs", json=body)
    response.raise_for_status()
    return response.json(), response.headers["traceresponse"]


async def _trace_with(
    jaeger: Jaeger, trace_id: str, complete: Callable[[list[Span]], bool], what: str
) -> list[Span]:
    """The spans of ``trace_id`` once ``complete`` holds for them (export is asynchronous)."""

    def probe() -> list[Span] | None:
        spans = jaeger.spans(trace_id)
        return spans if complete(spans) else None

    found: list[Span] = await eventually(probe, within=60, what=what, interval=0.5)
    return found


def _named(spans: list[Span], name: str, service: str | None = None) -> list[Span]:
    return [s for s in spans if s.name == name and service in (None, s.service)]


def _one(spans: list[Span], name: str, service: str | None = None) -> Span:
    found = _named(spans, name, service)
    assert len(found) == 1, f"{name}: {[(s.name, s.service) for s in spans]}"
    return found[0]


async def test_a_run_is_one_trace_from_the_request_through_executor_nodes_and_webhook(
    traced: Topology, tracing_backend: Jaeger, hooks: Receiver
) -> None:
    jaeger = tracing_backend
    async with sdk(traced.intake) as client:
        thread = await client.threads.create()
        run, traceresponse = await _create_run(
            traced.intake,
            thread["thread_id"],
            {
                "assistant_id": "react_agent",
                "input": {"messages": [{"role": "user", "content": TOOL_CALL}]},
                "webhook": hooks.url("/traced"),
            },
        )
        await client.runs.join(thread["thread_id"], run["run_id"])
    _, trace_id, request_span_id, _ = traceresponse.split("-")

    spans = await _trace_with(
        jaeger,
        trace_id,
        lambda spans: (
            bool(_named(spans, "lgd.run.attempt", EXECUTOR))  # ends last of the executor's
            and bool(_named(spans, "lgd.webhook.deliver"))
            and any(s.parent == _named(spans, "lgd.webhook.deliver")[0].span_id for s in spans)
        ),
        "the attempt, the webhook delivery and its HTTP span in the run's trace",
    )
    run_tag = {"lgd.run_id": run["run_id"]}
    assert jaeger.trace_ids(EXECUTOR, **run_tag) == [trace_id]
    assert jaeger.trace_ids(WEBHOOKS, **run_tag) == [trace_id]
    assert {s.service for s in spans} >= {INTAKE, EXECUTOR, WEBHOOKS}

    request = next(s for s in spans if s.span_id == request_span_id)
    assert (request.service, request.name) == (INTAKE, "POST /threads/{thread_id}/runs")
    assert request.tags["lgd.tenant"] == "default"
    correlation = {
        "lgd.tenant": "default",
        "lgd.run_id": run["run_id"],
        "lgd.thread_id": thread["thread_id"],
        "lgd.assistant_id": run["assistant_id"],
        "lgd.graph_id": "react_agent",
        "lgd.attempt": 1,
    }
    attempt = _one(spans, "lgd.run.attempt", EXECUTOR)
    assert attempt.parent == request.span_id
    assert attempt.tags.items() >= {**correlation, "lgd.outcome": "success"}.items()

    nodes = [s for s in spans if "langgraph.node" in s.tags]
    assert [s.name for s in nodes] == ["agent", "tools", "agent"]
    assert {s.parent for s in nodes} == {attempt.span_id}
    assert [s.tags["langgraph.step"] for s in nodes] == [1, 2, 3]
    tool = _one(spans, "execute_tool get_weather", EXECUTOR)
    assert tool.parent == nodes[1].span_id
    chats = _named(spans, "chat stub-model", EXECUTOR)
    assert [c.parent for c in chats] == [nodes[0].span_id, nodes[2].span_id]
    # the model's HTTP requests (openai 3 sends them with httpx2), beside the chat spans
    model_posts = [s for s in _named(spans, "POST", EXECUTOR) if s.parent == attempt.span_id]
    assert len(model_posts) == 2
    assert all(s.tags["span.kind"] == "client" for s in model_posts)
    assert all(s.tags["http.url"].endswith("/chat/completions") for s in model_posts)
    writes = [e for e in attempt.events if e["event"] == "lgd.checkpoint.write"]
    assert len([e for e in writes if "langgraph.checkpoint_id" in e]) >= 4
    assert any("langgraph.task_id" in e for e in writes)
    assert not [s for s in spans if "db.system" in s.tags]  # statements: only when asked

    deliver = _one(spans, "lgd.webhook.deliver", WEBHOOKS)
    assert deliver.parent == request.span_id
    assert (
        deliver.tags.items()
        >= {
            "lgd.run_id": run["run_id"],
            "lgd.delivery_attempt": 1,
            "lgd.outcome": "delivered",
        }.items()
    )
    post = next(s for s in spans if s.parent == deliver.span_id)
    assert post.tags["span.kind"] == "client" and post.name == "POST"
    assert hooks.at("/traced")[0].headers["traceparent"].split("-")[1] == trace_id
    assert "Paris" not in json.dumps([s.tags for s in spans])  # no contents by default


async def test_a_reclaimed_run_has_its_second_attempt_in_the_same_trace_linked_to_the_first(
    traced: Topology, tracing_backend: Jaeger
) -> None:
    jaeger = tracing_backend
    async with sdk(traced.intake) as client:
        thread = await client.threads.create()
        run, traceresponse = await _create_run(
            traced.intake,
            thread["thread_id"],
            {"assistant_id": "slow", "input": {}, "config": {"configurable": {"sleep": 1.5}}},
        )
        trace_id = traceresponse.split("-")[1]
        first_nodes = await _trace_with(
            jaeger,
            trace_id,
            lambda spans: any("langgraph.node" in s.tags for s in spans),
            "a node of the first attempt",
        )
        attempts = await run_attempts(traced.intake, run)
        victim = next(s for s in traced.executors if executor_id(s) == attempts[0]["executor_id"])
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)
        await client.runs.join(thread["thread_id"], run["run_id"])
        final = await client.runs.get(thread["thread_id"], run["run_id"])
    assert (final["status"], final["attempt"]) == ("success", 2)

    spans = await _trace_with(
        jaeger,
        trace_id,
        lambda spans: bool(_named(spans, "lgd.run.attempt")),
        "the second attempt in the first's trace",
    )
    request_span_id = traceresponse.split("-")[2]
    first_attempt_span = next(s for s in first_nodes if "langgraph.node" in s.tags).parent
    reclaim = _one(spans, "lgd.run.reclaim", EXECUTOR)
    assert reclaim.parent == request_span_id
    assert reclaim.tags.items() >= {"lgd.attempt": 1, "lgd.outcome": "pending"}.items()
    second = _one(spans, "lgd.run.attempt", EXECUTOR)  # the first never ended: never exported
    assert second.parent == request_span_id
    assert second.tags["lgd.attempt"] == 2
    assert second.links == (first_attempt_span,)
    assert jaeger.trace_ids(EXECUTOR, **{"lgd.run_id": run["run_id"]}) == [trace_id]


async def test_a_retried_run_has_its_second_attempt_in_the_same_trace_linked_to_the_first(
    tracing_backend: Jaeger, ledger: Path
) -> None:
    """``flaky`` raises ``ConnectionError`` once; its retry policy hands the run back as
    ``pending`` and the second attempt succeeds."""
    service = "lg-deploy-retries"
    env = {**tracing_backend.env, "OTEL_SERVICE_NAME": service}
    with dev_server("retries", env=env) as server:
        async with sdk(server) as client:
            thread = await client.threads.create()
            run, traceresponse = await _create_run(
                server,
                thread["thread_id"],
                {
                    "assistant_id": "flaky",
                    "input": {},
                    "config": {"configurable": {"ledger": str(ledger), "fail_times": 1}},
                    "retry_policy": {"max_attempts": 2, "initial_delay_seconds": 0.2},
                },
            )
            await client.runs.join(thread["thread_id"], run["run_id"])
            final = await client.runs.get(thread["thread_id"], run["run_id"])
    assert (final["status"], final["attempt"]) == ("success", 2)
    _, trace_id, request_span_id, _ = traceresponse.split("-")

    spans = await _trace_with(
        tracing_backend,
        trace_id,
        lambda spans: (
            len(_named(spans, "lgd.run.attempt")) == 2 and len(_named(spans, "flaky")) == 2
        ),
        "both attempts and their flaky nodes in the run's trace",
    )
    request = _one(spans, "POST /threads/{thread_id}/runs", service)
    assert request.span_id == request_span_id
    first, second = sorted(
        _named(spans, "lgd.run.attempt", service), key=lambda s: int(s.tags["lgd.attempt"])
    )
    assert (first.tags["lgd.attempt"], second.tags["lgd.attempt"]) == (1, 2)
    assert first.parent == second.parent == request.span_id
    assert first.tags["lgd.outcome"] == "retry"
    assert "otel.status_code" not in first.tags  # ERROR is for an attempt ending the run
    assert second.tags["lgd.outcome"] == "success"
    assert first.links == ()
    assert second.links == (first.span_id,)

    failed, recovered = _named(spans, "flaky", service)  # the node, once per attempt
    assert (failed.parent, recovered.parent) == (first.span_id, second.span_id)
    assert failed.tags["otel.status_code"] == "ERROR"
    assert any(e.get("exception.type") == "ConnectionError" for e in failed.events)
    assert "otel.status_code" not in recovered.tags
    assert tracing_backend.trace_ids(service, **{"lgd.run_id": run["run_id"]}) == [trace_id]


async def test_statement_spans_are_added_when_asked(tracing_backend: Jaeger) -> None:
    env = {
        **tracing_backend.env,
        "OTEL_SERVICE_NAME": "lg-deploy-statements",
        "LG_DEPLOY_TRACE_STATEMENTS": "true",
    }
    with dev_server("statements", env=env) as server:
        async with sdk(server) as client:
            thread = await client.threads.create()
            run, traceresponse = await _create_run(
                server, thread["thread_id"], {"assistant_id": "echo", "input": {"items": []}}
            )
            await client.runs.join(thread["thread_id"], run["run_id"])
    trace_id = traceresponse.split("-")[1]
    spans = await _trace_with(
        tracing_backend,
        trace_id,
        lambda spans: any(
            "INSERT INTO checkpoint" in s.tags.get("db.statement", "") for s in spans
        ),
        "the checkpointer's statements",
    )
    attempt = _one(spans, "lgd.run.attempt")
    statements = [s for s in spans if "INSERT INTO checkpoint" in s.tags.get("db.statement", "")]
    assert {s.parent for s in statements} == {attempt.span_id}
    request = _one(spans, "POST /threads/{thread_id}/runs")
    api_statements = [s for s in spans if s.parent == request.span_id and "db.system" in s.tags]
    assert api_statements  # the API's own (asyncpg) statements, under the request


def test_without_otel_environment_nothing_is_installed() -> None:
    assert not wanted({})
    assert not wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"})
    assert not wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"})
    assert wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x"})
    assert configure_tracing("lg-deploy-test", environ={}) is False
    assert isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


SAMPLING_PROBE = """
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from shared.tracing.setup import configure_tracing
assert configure_tracing("lg-deploy-test")
tracer = trace.get_tracer("probe")
with tracer.start_as_current_span("work", kind=SpanKind.SERVER) as work:
    query = tracer.start_span("query", kind=SpanKind.CLIENT)
    recorded = [work.is_recording(), query.is_recording()]
poll = tracer.start_span("poll", kind=SpanKind.CLIENT)
print(trace.get_tracer_provider().sampler.get_description())
print(*recorded, poll.is_recording())
"""
"""Configures tracing in a fresh process and prints its sampler and which of a server span, a
client span under it and a client span without a parent record."""


@pytest.mark.parametrize(
    ("sampler", "described", "recording"),
    [
        ({}, "ParentBased{root:AlwaysOnSampler,", "True True False"),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, "AlwaysOffSampler", "False False False"),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"},
            "TraceIdRatioBased{1.0}",
            "True True False",
        ),
    ],
)
def test_the_environment_chooses_the_sampler_and_orphan_client_spans_are_dropped(
    sampler: dict[str, str], described: str, recording: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", **sampler}
    done = subprocess.run(
        [sys.executable, "-c", SAMPLING_PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    description, recorded = done.stdout.splitlines()
    assert description.startswith("WorkRootsOnly{") and described in description
    assert recorded == recording


@pytest.mark.usefixtures("server")
async def test_without_otel_environment_no_trace_header_is_added(
    server: Server,
) -> None:
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/runs/wait",
            json={"assistant_id": "echo", "input": {"messages": []}},
            headers={"traceparent": incoming},
        )
    assert response.status_code == 200
    assert "traceresponse" not in response.headers


async def test_a_cloudevent_run_continues_the_trace_the_event_carries(
    traced: Topology, tracing_backend: Jaeger
) -> None:
    trace_id, event_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with sdk(traced.intake) as client:
        thread = await client.threads.create()
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "dev.lgdeploy.run.create",
        "ce-source": "/tests/observability",
        "ce-id": thread["thread_id"],
        "ce-traceparent": f"00-{trace_id}-{event_span}-01",
        "content-type": "application/json",
    }
    body = {"thread_id": thread["thread_id"], "assistant_id": "slow", "input": {}}
    async with httpx.AsyncClient(base_url=traced.intake.url, timeout=30) as http:
        response = await http.post("/cloudevents", json=body, headers=headers)
    assert response.status_code == 202, response.text
    _, request_trace, request_span, _ = response.headers["traceresponse"].split("-")

    spans = await _trace_with(
        tracing_backend,
        trace_id,
        lambda spans: bool(_named(spans, "lgd.run.attempt")),
        "the run's attempt in the event's trace",
    )
    process = _one(spans, "CloudEvents Process dev.lgdeploy.run.create", INTAKE)
    assert process.parent == event_span
    assert process.links == (request_span,)
    assert process.tags["cloudevents.event_id"] == thread["thread_id"]
    assert process.tags["span.kind"] == "consumer"
    assert _one(spans, "lgd.run.attempt", EXECUTOR).parent == process.span_id
    assert request_trace != trace_id  # the HTTP request's own trace is linked, not continued


async def test_a_server_span_is_named_after_its_route_or_its_method_alone(
    traced: Topology, tracing_backend: Jaeger
) -> None:
    async with httpx.AsyncClient(base_url=traced.intake.url, timeout=30) as http:
        routed = await http.get(f"/threads/{uuid.uuid4()}")
        unrouted = await http.get("/no/such/route")
    assert (routed.status_code, unrouted.status_code) == (404, 404)
    spans = {}
    for name, response in (("routed", routed), ("unrouted", unrouted)):
        _, trace_id, span_id, _ = response.headers["traceresponse"].split("-")
        found = await _trace_with(tracing_backend, trace_id, bool, f"the {name} request's span")
        spans[name] = next(s for s in found if s.span_id == span_id)
    assert spans["routed"].name == "GET /threads/{thread_id}"
    assert spans["routed"].tags["http.route"] == "/threads/{thread_id}"
    assert spans["unrouted"].name == "GET"
    assert "http.route" not in spans["unrouted"].tags
    assert spans["unrouted"].tags["http.status_code"] == 404


async def test_a_page_on_another_origin_may_read_the_traceresponse_header(
    traced: Topology,
) -> None:
    # CORS lists its own exposed headers and the trace response propagator adds
    # ``traceresponse`` in a second header of the same name; a browser reads them as one list
    async with httpx.AsyncClient(base_url=traced.intake.url, timeout=30) as http:
        response = await http.post("/threads", json={}, headers={"Origin": "https://portal.test"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {
        name.strip().lower()
        for header in response.headers.get_list("access-control-expose-headers")
        for name in header.split(",")
    }
    assert {"traceresponse", "content-location", "x-pagination-total"} <= exposed
    assert response.headers["traceresponse"].startswith("00-")
