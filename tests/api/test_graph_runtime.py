"""The run context and the graph factory shapes, through the official SDK.

Source of the expected behaviour: the official Agent Server (``langgraph dev``, langgraph-api
0.16.7), compared on the same graphs (``tests/graphs/runtime_shapes.py``): a run's graph always
gets a dict context (the assistant's merged with the run's, ``config.configurable`` standing in
for a missing one) cut to the keys its context schema declares, so the schema's defaults apply;
factories taking a ``ServerRuntime`` (sync, async, context managers) are called with the access
context of each use and exited after it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from tests.support import ROOT, refused_start

TEMPLATE_DEFAULTS = {
    "model": "anthropic/claude-sonnet-4-5-20250929",
    "system_prompt": "You are a helpful AI assistant.",
}


async def _run(client: LangGraphClient, assistant: str, **kw: Any) -> tuple[str, Any]:
    thread_id = str((await client.threads.create())["thread_id"])
    return thread_id, await client.runs.wait(thread_id, assistant, input={}, **kw)


# --- the run context -----------------------------------------------------------------------


@pytest.mark.parametrize("given", [{}, {"context": {}}], ids=["no context", "empty context"])
async def test_react_template_graph_gets_its_context_defaults(
    client: LangGraphClient, given: dict[str, Any]
) -> None:
    _, result = await _run(client, "react_like", **given)
    assert result["seen"] == {
        **TEMPLATE_DEFAULTS,
        "type": "Context",
        "via_get_runtime": TEMPLATE_DEFAULTS["model"],
    }


@pytest.mark.parametrize(
    ("graph", "seen"),
    [
        ("react_like", {"model": "m1", "system_prompt": TEMPLATE_DEFAULTS["system_prompt"]}),
        ("pydantic_context", {"context": {"model": "m1", "temperature": 0.5}}),
        ("typed_context", {"context": {"model": "m1", "user_id": "u"}}),
        ("no_context", {"context": {"model": "m1", "user_id": "u", "extra": 1}}),
    ],
)
async def test_context_keys_the_schema_does_not_declare_are_dropped(
    client: LangGraphClient, graph: str, seen: dict[str, Any]
) -> None:
    context = {"model": "m1", "user_id": "u", "extra": 1}
    _, result = await _run(client, graph, context=context)
    assert {k: v for k, v in result["seen"].items() if k in seen} == seen


@pytest.mark.parametrize(
    ("graph", "empty"),
    [
        ("pydantic_context", {"type": "PydanticContext", "context": {"model": "pydantic-default"}}),
        ("typed_context", {"type": "NoneType", "context": None}),
        ("no_context", {"type": "NoneType", "context": None}),
    ],
)
async def test_without_context_a_class_schema_gets_its_defaults_others_none(
    client: LangGraphClient, graph: str, empty: dict[str, Any]
) -> None:
    # LangGraph itself gives ``None`` for an empty dict where it makes no schema instance.
    _, result = await _run(client, graph)
    seen = result["seen"]
    assert seen["type"] == empty["type"]
    if empty["context"] is None:
        assert seen["context"] is None
    else:
        assert seen["context"]["model"] == empty["context"]["model"]


async def test_assistant_context_merges_under_the_runs(client: LangGraphClient) -> None:
    assistant = await client.assistants.create(
        "react_like", context={"model": "assistant-m", "other": "o"}
    )
    _, alone = await _run(client, assistant["assistant_id"])
    assert alone["seen"]["model"] == "assistant-m"
    _, merged = await _run(
        client, assistant["assistant_id"], context={"system_prompt": "run-p", "user_id": "u"}
    )
    assert (merged["seen"]["model"], merged["seen"]["system_prompt"]) == ("assistant-m", "run-p")


async def test_configurable_stands_in_for_a_missing_context(client: LangGraphClient) -> None:
    _, result = await _run(client, "react_like", config={"configurable": {"model": "cfg"}})
    assert result["seen"]["model"] == "cfg"
    assistant = await client.assistants.create(
        "typed_context", config={"configurable": {"model": "assistant-cfg"}}
    )
    _, merged = await _run(
        client, assistant["assistant_id"], config={"configurable": {"user_id": "u", "x": 1}}
    )
    assert merged["seen"]["context"] == {"model": "assistant-cfg", "user_id": "u"}


async def test_declared_context_keys_reach_configurable_and_checkpoint_metadata(
    client: LangGraphClient,
) -> None:
    thread_id, _ = await _run(client, "react_like", context={"model": "m1", "extra": 1})
    metadata = (await client.threads.get_state(thread_id))["metadata"]
    assert metadata["model"] == "m1"
    assert "extra" not in metadata


# --- graph factories -----------------------------------------------------------------------

SHAPES = ["runtime_only", "config_and_runtime", "runtime_then_config", "async_managed"]


@pytest.mark.parametrize("shape", SHAPES)
async def test_runtime_factories_get_an_execution_runtime_with_the_run_context(
    client: LangGraphClient, shape: str
) -> None:
    assistant = await client.assistants.create(shape, context={"system_prompt": "p"})
    _, result = await _run(client, assistant["assistant_id"], context={"model": "m1", "extra": 1})
    built = result["built"]
    assert built["shape"] == shape
    assert built["access_context"] == "threads.create_run"
    assert built["runtime_type"] == "_ExecutionRuntime"
    assert (built["user"], built["store"]) == (None, True)
    # the factory sees the merged context before the graph's schema cuts it
    assert built["context"] == {"system_prompt": "p", "model": "m1", "extra": 1}
    assert result["seen"] == {"model": "m1"}
    stateless = await client.runs.wait(None, shape, input={}, context={"model": "alone"})
    assert stateless["built"]["context"] == {"model": "alone"}


@pytest.mark.parametrize("shape", ["async_managed", "sync_managed"])
async def test_context_manager_factories_stay_open_for_the_run(
    client: LangGraphClient, shape: str
) -> None:
    _, result = await _run(client, shape, context={"model": "m1"})
    assert result["open"] is True
    assert result["seen"] == {"model": "m1"}


async def _calls(
    client: LangGraphClient, marker: str, done: Callable[[list[Any]], bool]
) -> list[tuple[str, str]]:
    """``(access_context, event)`` of each recorded factory call under ``marker``, in order,
    once ``done`` holds for them (a run's context manager is exited as the run ends)."""
    async with asyncio.timeout(10):
        while True:
            found = await client.store.search_items(("factory_calls", marker), limit=100)
            values = sorted((item["value"] for item in found["items"]), key=lambda v: v["at"])
            if done(values):
                return [(v["access_context"], v["event"]) for v in values]
            await asyncio.sleep(0.05)


def _count(n: int) -> Callable[[list[Any]], bool]:
    return lambda values: len(values) >= n


async def test_each_use_of_a_factory_names_its_access_context(client: LangGraphClient) -> None:
    marker = uuid.uuid4().hex
    assistant = await client.assistants.create("config_and_runtime", context={"marker": marker})
    aid = assistant["assistant_id"]
    await client.assistants.get_schemas(aid)
    await client.assistants.get_graph(aid)
    await client.assistants.get_graph(aid, xray=True)
    await client.assistants.get_subgraphs(aid)
    thread_id, _ = await _run(client, "config_and_runtime")
    await client.threads.get_state(thread_id)
    await client.threads.get_history(thread_id)
    await client.threads.update_state(thread_id, {"seen": "edited"})
    reads = await _calls(client, marker, _count(4))
    assert reads == [("assistants.read", "call")] * 4
    uses = await _calls(client, thread_id, _count(4))
    assert uses == [
        ("threads.create_run", "call"),
        ("threads.read", "call"),
        ("threads.read", "call"),
        ("threads.update", "call"),
    ]
    found = await client.store.search_items(("factory_calls", marker), limit=1)
    read = found["items"][0]["value"]
    assert (read["runtime_type"], read["user"], read["context"]) == (
        "_ReadRuntime",
        "UnauthenticatedUser",
        None,
    )


async def test_context_manager_factory_is_entered_per_use_and_exited_after_it(
    client: LangGraphClient,
) -> None:
    marker = uuid.uuid4().hex
    assistant = await client.assistants.create("async_managed", context={"marker": marker})
    await client.assistants.get_schemas(assistant["assistant_id"])
    assert await _calls(client, marker, _count(2)) == [
        ("assistants.read", "enter"),
        ("assistants.read", "exit"),
    ]
    thread_id, result = await _run(client, "async_managed")
    assert result["open"] is True
    await client.threads.get_state(thread_id)
    assert await _calls(client, thread_id, _count(4)) == [
        ("threads.create_run", "enter"),
        ("threads.create_run", "exit"),
        ("threads.read", "enter"),
        ("threads.read", "exit"),
    ]


def test_an_unsupported_factory_shape_stops_start_up_naming_its_key(tmp_path: Path) -> None:
    config = ROOT / "tests" / "graphs" / "langgraph_bad_factory.json"
    stderr = refused_start(config, tmp_path / "data")
    assert stderr.strip().splitlines()[-1] == (
        f"lg-deploy: invalid langgraph.json: {config}: graphs.bad: a graph factory of two "
        "parameters takes a config and one annotated ServerRuntime (langgraph_sdk.runtime); "
        "'two_unknown' takes ['first', 'second'], neither annotated ServerRuntime"
    )
