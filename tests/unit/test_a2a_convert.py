"""A2A mapping (pure): task ids, incoming messages, stored messages, task states and shapes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from a2a.compat.v0_3 import types as a2a
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from shared.a2a import convert, rpc
from shared.serde import to_jsonable

THREAD, RUN = uuid.uuid4(), uuid.uuid4()


def _message(*parts: dict[str, Any], role: str = "user") -> a2a.Message:
    return a2a.Message.model_validate({"messageId": "m1", "role": role, "parts": list(parts)})


def _run(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": RUN,
        "thread_id": THREAD,
        "status": status,
        "updated_at": datetime(2025, 1, 1, tzinfo=UTC),
        "kwargs": {"input": {"messages": [{"role": "user", "content": "hi", "id": "m1"}]}},
        **extra,
    }


def test_task_ids_round_trip_and_reject_other_strings() -> None:
    assert convert.parse_task_id(convert.task_id(THREAD, RUN)) == (THREAD, RUN)
    for bad in ("", "x", f"{THREAD}", f"{THREAD}:x", f"x:{RUN}", f"{THREAD}:{RUN}:1"):
        assert convert.parse_task_id(bad) is None


def test_incoming_text_and_data_parts_become_one_user_message() -> None:
    message = _message({"kind": "text", "text": "a"}, {"kind": "data", "data": {"k": 1}})
    assert convert.graph_input(message) == {
        "messages": [{"role": "user", "content": 'a\n{"k":1}', "id": "m1"}]
    }


@pytest.mark.parametrize(
    "message",
    [
        _message({"kind": "text", "text": "a"}, role="agent"),
        _message(),
        _message({"kind": "file", "file": {"uri": "https://x/y"}}),
    ],
)
def test_agent_messages_empty_messages_and_files_are_refused(message: a2a.Message) -> None:
    with pytest.raises(ValueError):
        convert.graph_input(message)


def test_stored_messages_become_history_without_tools_or_empty_replies() -> None:
    stored = to_jsonable(
        [
            HumanMessage("hi", id="h1"),
            AIMessage("", id="call", tool_calls=[{"name": "t", "args": {}, "id": "c1"}]),
            ToolMessage("42", tool_call_id="c1", id="t1"),
            AIMessage([{"type": "text", "text": "it is "}, "42"], id="a1"),
        ]
    )
    history = [convert.history_message(m, "ctx", "fallback") for m in stored]
    kept = [(m.role, m.message_id, m.parts[0].root.text) for m in history if m is not None]
    assert kept == [(a2a.Role.user, "h1", "hi"), (a2a.Role.agent, "a1", "it is 42")]


@pytest.mark.parametrize(
    ("status", "values", "state"),
    [
        ("pending", None, a2a.TaskState.submitted),
        ("running", None, a2a.TaskState.working),
        ("success", {"messages": []}, a2a.TaskState.completed),
        ("success", {"__interrupt__": [{"value": "ok?", "id": "i"}]}, a2a.TaskState.input_required),
        ("error", {}, a2a.TaskState.failed),
        ("timeout", {}, a2a.TaskState.failed),
        ("interrupted", {}, a2a.TaskState.canceled),
    ],
)
def test_task_states_follow_the_run(status: str, values: Any, state: a2a.TaskState) -> None:
    assert convert.task_state(status, values) == state


def test_a_completed_task_carries_history_and_the_last_reply_as_artifact() -> None:
    values = to_jsonable({"messages": [HumanMessage("hi", id="m1"), AIMessage("hello", id="a1")]})
    task = convert.build_task(_run("success"), values, None)
    assert task.id == f"{THREAD}:{RUN}" and task.context_id == str(THREAD)
    assert task.status.state == a2a.TaskState.completed and task.status.message is None
    assert [m.message_id for m in task.history or []] == ["m1", "a1"]
    [artifact] = task.artifacts or []
    assert artifact.artifact_id == "a1" and artifact.parts[0].root.text == "hello"
    assert convert.build_task(_run("success"), values, 1).history[0].message_id == "a1"
    assert convert.build_task(_run("success"), values, 0).history == []


def test_an_active_task_shows_its_input_and_a_failed_one_its_error() -> None:
    submitted = convert.build_task(_run("pending"), None, None)
    assert [m.parts[0].root.text for m in submitted.history or []] == ["hi"]
    assert submitted.artifacts is None
    error = {"error": "ValueError", "message": "boom"}
    failed = convert.build_task(_run("error", error=error), {"__error__": error}, None)
    assert failed.status.message is not None
    assert failed.status.message.parts[0].root.text == "ValueError: boom"


def test_only_agent_chunks_with_text_are_partial_text() -> None:
    chunk = to_jsonable([AIMessageChunk("hel", id="a1"), {"langgraph_node": "model"}])
    assert convert.chunk_text(orjson.dumps(chunk).decode()) == ("a1", "hel")
    human = to_jsonable([HumanMessage("hi", id="h"), {}])
    for data in (orjson.dumps(human).decode(), "[]", "{", '"x"'):
        assert convert.chunk_text(data) is None


def test_envelope_errors_keep_the_request_id_when_readable() -> None:
    with pytest.raises(rpc.RpcFault) as parse:
        rpc.parse_request(b"nope")
    assert parse.value.error.code == -32700 and parse.value.request_id is None
    with pytest.raises(rpc.RpcFault) as envelope:
        rpc.parse_request(b'{"jsonrpc": "2.0", "id": "r", "method": 1}')
    assert envelope.value.error.code == -32600 and envelope.value.request_id == "r"
    assert rpc.failure(None, a2a.MethodNotFoundError()) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32601, "message": "Method not found"},
    }
