"""Every stream mode through the official SDK's ``runs.stream`` (Agent Server "SSE wire format")."""

from __future__ import annotations

from typing import Any

from langgraph.version import __version__ as LANGGRAPH_VERSION
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamPart

CHAT_INPUT = {"messages": [{"role": "user", "content": "hi"}]}


async def _stream(
    client: LangGraphClient, graph: str, graph_input: Any, **kwargs: Any
) -> list[StreamPart]:
    thread = await client.threads.create()
    return [
        p async for p in client.runs.stream(thread["thread_id"], graph, input=graph_input, **kwargs)
    ]


def _names(parts: list[StreamPart]) -> list[str]:
    return [p.event for p in parts]


async def test_values_sends_input_then_state_after_each_step(client: LangGraphClient) -> None:
    parts = await _stream(client, "echo", {"items": ["x"]}, stream_mode="values")
    assert _names(parts) == ["metadata", "values", "values"]
    assert parts[0].data["run_id"]
    assert [p.data for p in parts[1:]] == [{"items": ["x"]}, {"items": ["x", "one"]}]


async def test_updates_name_the_node_and_its_update(client: LangGraphClient) -> None:
    parts = await _stream(client, "slow", {"items": []}, stream_mode="updates", config=_no_sleep())
    assert _names(parts) == ["metadata"] + ["updates"] * 3
    assert [p.data for p in parts[1:]] == [{f"step_{i}": {"items": ["nap"]}} for i in (1, 2, 3)]


async def test_messages_tuple_streams_tokens_with_metadata(client: LangGraphClient) -> None:
    parts = await _stream(client, "chat", CHAT_INPUT, stream_mode="messages-tuple")
    tokens = [p for p in parts if p.event == "messages"]
    assert len(tokens) > 1
    assert all(len(p.data) == 2 for p in tokens)
    assert "".join(chunk["content"] for chunk, _ in (p.data for p in tokens)) == (
        "hello there friend"
    )
    chunk, meta = tokens[0].data
    assert chunk["type"] == "AIMessageChunk"
    assert meta["langgraph_node"] == "model"
    # the run's metadata, as the official server adds it
    assert meta["run_attempt"] == 1 and meta["langgraph_version"] == LANGGRAPH_VERSION


async def test_legacy_messages_send_metadata_once_then_accumulated_partials(
    client: LangGraphClient,
) -> None:
    parts = await _stream(client, "chat", CHAT_INPUT, stream_mode="messages")
    names = _names(parts)
    assert names[:2] == ["metadata", "messages/metadata"]
    assert set(names[2:]) == {"messages/partial"}
    (msg_id, meta), *_ = parts[1].data.items()
    assert meta["metadata"]["langgraph_node"] == "model"
    contents = [p.data[0]["content"] for p in parts[2:]]
    assert contents[-1] == "hello there friend"
    assert contents == sorted(contents, key=len)
    assert {p.data[0]["id"] for p in parts[2:]} == {msg_id}


async def test_custom_sends_what_the_node_wrote(client: LangGraphClient) -> None:
    parts = await _stream(client, "echo", {"items": []}, stream_mode="custom")
    assert _names(parts) == ["metadata", "custom"]
    assert parts[1].data == {"hello": "world"}


async def test_events_mode_sends_langchain_stream_events_beside_other_modes(
    client: LangGraphClient,
) -> None:
    parts = await _stream(client, "chat", CHAT_INPUT, stream_mode=["events", "values"])
    records = [p.data for p in parts if p.event == "events"]
    assert records[0]["event"] == "on_chain_start"
    assert records[-1]["event"] == "on_chain_end"
    assert {"on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"} <= {
        r["event"] for r in records
    }
    assert all({"event", "name", "run_id", "data", "metadata"} <= set(r) for r in records)
    values = [p.data for p in parts if p.event == "values"]
    assert values[-1]["messages"][-1]["content"] == "hello there friend"
    assert set(_names(parts)) == {"metadata", "events", "values"}


async def test_debug_tasks_and_checkpoints(client: LangGraphClient) -> None:
    parts = await _stream(
        client, "echo", {"items": []}, stream_mode=["debug", "tasks", "checkpoints"]
    )
    debug = [p.data for p in parts if p.event == "debug"]
    assert {d["type"] for d in debug} == {"checkpoint", "task", "task_result"}
    assert all({"step", "timestamp", "payload"} <= set(d) for d in debug)
    tasks = [p.data for p in parts if p.event == "tasks"]
    assert tasks[0]["name"] == "one" and "input" in tasks[0]
    assert tasks[1]["result"] == {"items": ["one"]}
    checkpoints = [p.data for p in parts if p.event == "checkpoints"]
    assert checkpoints[-1]["values"] == {"items": ["one"]}
    assert checkpoints[-1]["config"]["configurable"]["checkpoint_id"]


async def test_several_modes_at_once_send_exactly_those(client: LangGraphClient) -> None:
    parts = await _stream(client, "echo", {"items": []}, stream_mode=["updates", "custom"])
    assert _names(parts) == ["metadata", "custom", "updates"]
    every = await _stream(
        client,
        "chat",
        CHAT_INPUT,
        stream_mode=["values", "updates", "messages-tuple", "custom", "debug", "tasks"],
    )
    assert set(_names(every)) == {
        "metadata",
        "values",
        "updates",
        "messages",
        "debug",
        "tasks",
    }


async def test_subgraph_events_are_named_mode_bar_namespace(client: LangGraphClient) -> None:
    nested = await _stream(
        client, "parent", {"items": []}, stream_mode=["updates", "custom"], stream_subgraphs=True
    )
    inner = [p for p in nested if "|" in p.event]
    assert [p.event.split("|")[0] for p in inner] == ["custom", "updates"]
    assert all(p.event.split("|")[1].startswith("child:") for p in inner)
    assert inner[0].data == {"from": "child"}
    assert inner[1].data == {"child_node": {"items": ["child"]}}
    flat = await _stream(client, "parent", {"items": []}, stream_mode=["updates", "custom"])
    assert _names(flat) == ["metadata", "updates", "updates"]


async def test_messages_of_a_subgraph_come_as_its_parent_node_without_stream_subgraphs(
    client: LangGraphClient,
) -> None:
    """``team``'s node ``agent`` is the ``chat`` graph: without ``stream_subgraphs`` its answer
    comes whole, as node ``agent``'s (LangGraph's messages mode, as the official server
    streams it); values and updates of the subgraph stay out."""
    modes = ["messages-tuple", "values", "updates"]
    parts = await _stream(client, "team", CHAT_INPUT, stream_mode=modes)
    assert _names(parts) == ["metadata", "values", "messages", "updates", "values"]
    message, meta = parts[2].data
    assert message["content"] == "hello there friend" and message["type"] == "ai"
    assert meta["langgraph_node"] == "agent"
    assert meta["langgraph_checkpoint_ns"].startswith("agent:")
    legacy = await _stream(client, "team", CHAT_INPUT, stream_mode="messages")
    assert _names(legacy) == ["metadata", "messages/metadata", "messages/complete"]
    assert legacy[2].data[0]["content"] == "hello there friend"


async def test_messages_of_a_subgraph_stream_as_tokens_with_stream_subgraphs(
    client: LangGraphClient,
) -> None:
    parts = await _stream(
        client, "team", CHAT_INPUT, stream_mode="messages-tuple", stream_subgraphs=True
    )
    tokens = [p for p in parts if p.event.startswith("messages|agent:")]
    assert len(tokens) > 1 and len(tokens) == len(parts) - 1
    assert "".join(p.data[0]["content"] for p in tokens) == "hello there friend"
    legacy = await _stream(
        client, "team", CHAT_INPUT, stream_mode="messages", stream_subgraphs=True
    )
    names = _names(legacy)  # the legacy events keep their names, as officially
    assert names[:2] == ["metadata", "messages/metadata"]
    assert set(names[2:]) == {"messages/partial"}


async def test_interrupt_shows_in_last_values_and_as_updates_event(
    client: LangGraphClient,
) -> None:
    parts = await _stream(client, "human", {"items": []}, stream_mode=["values", "updates"])
    assert _names(parts) == ["metadata", "values", "updates", "values"]
    (pause,) = parts[2].data["__interrupt__"]
    assert pause["value"] == {"question": "approve?"} and pause["id"]
    assert parts[3].data == {"items": [], "__interrupt__": [pause]}


async def test_failing_run_ends_with_an_error_event(client: LangGraphClient) -> None:
    parts = await _stream(client, "fail", {"items": []}, stream_mode=["values", "events"])
    assert parts[0].event == "metadata"
    assert parts[-1].event == "error"
    assert parts[-1].data == {"error": "ValueError", "message": "boom"}
    assert _names(parts).count("error") == 1


async def test_stateless_stream_sends_the_same_events(client: LangGraphClient) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            None, "echo", input={"items": []}, stream_mode=["values", "custom"]
        )
    ]
    assert _names(parts) == ["metadata", "values", "custom", "values"]


def _no_sleep() -> dict[str, Any]:
    return {"configurable": {"sleep": 0}}
