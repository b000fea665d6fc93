"""A2A JSON-RPC at ``/a2a/{assistant_id}`` and agent cards (Agent Server API, "A2A").

Raw JSON-RPC over httpx (the wire is the subject), the official ``a2a-sdk`` client for interop,
and the ``langgraph_sdk`` client to check what the tasks became (threads, runs).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import pytest
from langgraph_sdk.client import LangGraphClient

from tests.api.test_official_shapes import DECISION_SCHEMA
from tests.support import Server

REPLY = "hello there friend"
SSE = {"Accept": "text/event-stream"}


def _message(text: str, **extra: Any) -> dict[str, Any]:
    parts = [{"kind": "text", "text": text}]
    return {"messageId": str(uuid.uuid4()), "role": "user", "parts": parts, **extra}


async def _call(
    http: httpx.AsyncClient, assistant: str, method: str, params: Any, request_id: Any = 1
) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    response = await http.post(f"/a2a/{assistant}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _result(http: httpx.AsyncClient, assistant: str, method: str, params: Any) -> Any:
    reply = await _call(http, assistant, method, params)
    assert "error" not in reply, reply
    return reply["result"]


async def _frames(http: httpx.AsyncClient, assistant: str, body: Any) -> list[dict[str, Any]]:
    """The JSON of every ``event: message`` SSE frame of a message/stream call."""
    frames: list[dict[str, Any]] = []
    async with http.stream("POST", f"/a2a/{assistant}", json=body, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                assert event == "message"
                frames.append(orjson.loads(line.split(":", 1)[1]))
    return frames


def _texts(parts: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for p in parts if p["kind"] == "text")


async def _runs_created(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith("lgd_runs_created_total "))
    return float(line.split()[1])


async def test_message_send_answers_the_completed_task_with_the_reply(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    task = await _result(http, "chat", "message/send", {"message": _message("hi")})
    assert task["kind"] == "task"
    assert task["status"]["state"] == "completed"
    [artifact] = task["artifacts"]
    assert _texts(artifact["parts"]) == REPLY
    assert [(m["role"], _texts(m["parts"])) for m in task["history"]] == [
        ("user", "hi"),
        ("agent", REPLY),
    ]
    thread_id, run_id = task["id"].split(":")
    assert task["contextId"] == thread_id
    run = await client.runs.get(thread_id, run_id)
    assert run["status"] == "success"
    assert (await client.threads.get(thread_id))["status"] == "idle"


async def test_message_stream_sends_the_task_then_updates_then_a_final_completed_status(
    http: httpx.AsyncClient,
) -> None:
    body = {"jsonrpc": "2.0", "id": "s-1", "method": "message/stream"}
    frames = await _frames(http, "chat", {**body, "params": {"message": _message("hi")}})
    assert {f["id"] for f in frames} == {"s-1"}
    results = [f["result"] for f in frames]
    first, *updates, last = results
    assert first["kind"] == "task" and first["status"]["state"] == "submitted"
    assert [m["role"] for m in first["history"]] == ["user"]
    statuses = [r for r in updates if r["kind"] == "status-update"]
    assert statuses and {r["status"]["state"] for r in statuses} == {"working"}
    assert not any(r["final"] for r in statuses)
    partial = [
        _texts(r["status"]["message"]["parts"]) for r in statuses if "message" in r["status"]
    ]
    assert len(partial) > 1 and "".join(partial) == REPLY
    [artifact] = [r for r in updates if r["kind"] == "artifact-update"]
    assert _texts(artifact["artifact"]["parts"]) == REPLY
    assert updates.index(artifact) == len(updates) - 1  # after every working update
    assert last["kind"] == "status-update" and last["final"] is True
    assert last["status"]["state"] == "completed"
    assert {r.get("taskId", r.get("id")) for r in results} == {first["id"]}


async def test_tasks_get_after_completion_gives_the_task_with_history_length(
    http: httpx.AsyncClient,
) -> None:
    sent = await _result(http, "chat", "message/send", {"message": _message("hi")})
    task = await _result(http, "chat", "tasks/get", {"id": sent["id"]})
    assert task["status"]["state"] == "completed"
    assert task["artifacts"] == sent["artifacts"] and task["history"] == sent["history"]
    last = await _result(http, "chat", "tasks/get", {"id": sent["id"], "historyLength": 1})
    assert [m["role"] for m in last["history"]] == ["agent"]
    none = await _result(http, "chat", "tasks/get", {"id": sent["id"], "historyLength": 0})
    assert none.get("history", []) == []


async def test_same_context_id_continues_the_conversation(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    first = await _result(http, "chat", "message/send", {"message": _message("first")})
    context = first["contextId"]
    second = await _result(
        http, "chat", "message/send", {"message": _message("second", contextId=context)}
    )
    assert second["contextId"] == context and second["id"] != first["id"]
    assert [_texts(m["parts"]) for m in second["history"]] == ["first", REPLY, "second", REPLY]
    state = await client.threads.get_state(context)
    assert [m["content"] for m in state["values"]["messages"]] == [
        "first",
        REPLY,
        "second",
        REPLY,
    ]
    runs = await client.runs.list(context)
    assert {f"{context}:{r['run_id']}" for r in runs} == {first["id"], second["id"]}


async def test_tasks_cancel_stops_a_working_task(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    sleepy = await client.assistants.create(
        "slow_chat", config={"configurable": {"sleep": 60}}, name="sleepy"
    )
    aid = sleepy["assistant_id"]
    params = {"message": _message("hi"), "configuration": {"blocking": False}}
    task = await _result(http, aid, "message/send", params)
    assert task["status"]["state"] in ("submitted", "working")
    for _ in range(600):
        task = await _result(http, aid, "tasks/get", {"id": task["id"]})
        if task["status"]["state"] == "working":
            break
        await asyncio.sleep(0.1)
    assert task["status"]["state"] == "working"
    cancelled = await _result(http, aid, "tasks/cancel", {"id": task["id"]})
    assert cancelled["id"] == task["id"]
    assert cancelled["status"]["state"] == "canceled"
    thread_id, run_id = task["id"].split(":")
    assert (await client.runs.get(thread_id, run_id))["status"] == "interrupted"
    again = await _call(http, aid, "tasks/cancel", {"id": task["id"]})
    assert again["error"]["code"] == -32002


async def test_agent_cards_describe_the_assistant_endpoint(
    http: httpx.AsyncClient, client: LangGraphClient, server: Server
) -> None:
    helper = await client.assistants.create("chat", name="Helper", description="Answers kindly")
    aid = helper["assistant_id"]
    cards = [
        (await http.get(f"/a2a/{aid}/.well-known/agent-card.json")).json(),
        (await http.get(f"/a2a/{aid}/.well-known/agent.json")).json(),
        (await http.get("/.well-known/agent-card.json", params={"assistant_id": aid})).json(),
    ]
    assert cards[0] == cards[1] == cards[2]
    card = cards[0]
    assert card["name"] == "Helper" and card["description"] == "Answers kindly"
    assert card["url"] == f"{server.url}/a2a/{aid}"
    assert card["capabilities"]["streaming"] is True
    assert card["protocolVersion"] == "0.3.0" and card["preferredTransport"] == "JSONRPC"
    assert [s["id"] for s in card["skills"]] == ["chat"]
    by_graph = (await http.get("/a2a/chat/.well-known/agent-card.json")).json()
    system = await client.assistants.search(graph_id="chat", metadata={"created_by": "system"})
    assert by_graph["url"] == f"{server.url}/a2a/{system[0]['assistant_id']}"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/a2a/echo/.well-known/agent-card.json", 422),
        ("/a2a/no-such-graph/.well-known/agent-card.json", 422),
        (f"/a2a/{uuid.UUID(int=0)}/.well-known/agent-card.json", 404),
        ("/.well-known/agent-card.json", 422),
        ("/.well-known/agent-card.json?assistant_id=echo", 422),
    ],
)
async def test_no_agent_card_for_unknown_or_non_chat_assistants(
    http: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await http.get(path)
    assert response.status_code == status
    assert "detail" in response.json()


async def test_official_a2a_client_streams_and_gets_a_task(server: Server) -> None:
    from a2a.client import create_client
    from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

    message = Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=[Part(text="hi")])
    async with await create_client(f"{server.url}/a2a/chat") as agent:
        events = [e async for e in agent.send_message(SendMessageRequest(message=message))]
        assert events[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
        assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
        task = await agent.get_task(GetTaskRequest(id=events[0].task.id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert task.artifacts[0].parts[0].text == REPLY


BAD_ENVELOPES = [
    (b"{", -32700, None),
    (b"[]", -32600, None),
    (b'{"id": 1, "method": "tasks/get", "params": {"id": "x"}}', -32600, 1),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "tasks/get"}', -32600, 1),
    (b'{"jsonrpc": "2.0", "method": "tasks/get", "params": {"id": "x"}}', -32600, None),
    (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "tasks/get"}', -32600, None),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 7}', -32600, 1),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": [1]}', -32602, 1),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/list"}', -32601, 1),
]


@pytest.mark.parametrize(("body", "code", "request_id"), BAD_ENVELOPES)
async def test_bad_envelopes_are_json_rpc_errors_with_http_200(
    http: httpx.AsyncClient, body: bytes, code: int, request_id: int | None
) -> None:
    before = await _runs_created(http)
    response = await http.post(
        "/a2a/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    reply = response.json()
    assert reply["jsonrpc"] == "2.0" and reply["error"]["code"] == code
    assert reply["id"] == request_id
    assert await _runs_created(http) == before


def _bad_calls(context: str) -> list[tuple[str, str, Any, int]]:
    message = _message("hi")
    return [
        ("chat", "message/send", {}, -32602),
        ("chat", "message/send", {"message": {"role": "user"}}, -32602),
        ("chat", "message/send", {"message": {**message, "role": "agent"}}, -32602),
        ("chat", "message/send", {"message": {**message, "parts": []}}, -32602),
        (
            "chat",
            "message/send",
            {"message": {**message, "parts": [{"kind": "file", "file": {"uri": "x:/y"}}]}},
            -32602,
        ),
        ("chat", "message/send", {"message": {**message, "contextId": "not-a-uuid"}}, -32602),
        (
            "chat",
            "message/send",
            {"message": {**message, "contextId": context, "parts": [{"kind": "nope"}]}},
            -32602,
        ),
        ("chat", "message/send", {"message": {**message, "taskId": f"{context}:x"}}, -32001),
        (
            "chat",
            "message/send",
            {"message": message, "configuration": {"historyLength": -1}},
            -32602,
        ),
        ("echo", "message/send", {"message": message}, -32602),
        ("no-such-graph", "message/send", {"message": message}, -32602),
        (str(uuid.UUID(int=0)), "message/send", {"message": message}, -32602),
        ("chat", "tasks/get", {}, -32602),
        ("chat", "tasks/get", {"id": "not-a-task"}, -32001),
        ("chat", "tasks/get", {"id": f"{context}:{uuid.uuid4()}"}, -32001),
        ("chat", "tasks/cancel", {"id": f"{uuid.uuid4()}:{uuid.uuid4()}"}, -32001),
    ]


async def test_bad_params_unknown_assistants_and_tasks_change_nothing(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    context = str((await client.threads.create())["thread_id"])
    threads = await client.threads.count()
    before = await _runs_created(http)
    for assistant, method, params, code in _bad_calls(context):
        reply = await _call(http, assistant, method, params, request_id="bad")
        assert reply["id"] == "bad"
        assert reply["error"]["code"] == code, (assistant, method, params, reply)
        assert reply["error"]["message"]
    stream = {"jsonrpc": "2.0", "id": 9, "method": "message/stream"}
    [frame] = await _frames(http, "echo", {**stream, "params": {"message": _message("hi")}})
    assert frame["id"] == 9 and frame["error"]["code"] == -32602
    assert await _runs_created(http) == before
    assert await client.threads.count() == threads
    assert await client.runs.list(context) == []


async def test_a_task_of_another_assistant_is_not_found(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    task = await _result(http, "chat", "message/send", {"message": _message("hi")})
    other = await client.assistants.create("chat", name="other")
    reply = await _call(http, other["assistant_id"], "tasks/get", {"id": task["id"]})
    assert reply["error"]["code"] == -32001


@pytest.mark.parametrize(
    ("method", "accept"),
    [("tasks/get", "text/event-stream"), ("message/stream", "application/json")],
)
async def test_an_unacceptable_media_type_is_http_400(
    http: httpx.AsyncClient, method: str, accept: str
) -> None:
    before = await _runs_created(http)
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": _message("hi")}}
    response = await http.post("/a2a/chat", json=body, headers={"Accept": accept})
    assert response.status_code == 400
    assert "detail" in response.json()
    assert await _runs_created(http) == before


# --- interrupted tasks (the official server's shapes) -----------------------------------------

ASKED = "I need your approval first."


def _data_message(data: Any, **extra: Any) -> dict[str, Any]:
    parts = [{"kind": "data", "data": data}]
    return {"messageId": str(uuid.uuid4()), "role": "user", "parts": parts, **extra}


def _interrupt_artifact(artifact: dict[str, Any], schema: Any = None) -> None:
    """The official interrupt artifact: named "Interrupt", one data part per interrupt."""
    assert artifact["name"] == "Interrupt"
    assert artifact["description"] == "Agent requires input to continue"
    [part] = artifact["parts"]
    assert part["kind"] == "data" and set(part["data"]) == {"id", "value"} | (
        {"response_schema"} if schema else set()
    )
    assert part["data"]["value"] == {"question": "approve?"}
    assert part["data"].get("response_schema") == schema


async def test_an_interrupted_task_is_input_required_with_its_interrupts_as_data(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    """Official: a task paused at an interrupt is ``input-required`` without a status message,
    its interrupt (``id``, ``value``, ``response_schema``) a data part of an "Interrupt"
    artifact, streamed as an artifact-update before the final status-update."""
    task = await _result(http, "chat_ask", "message/send", {"message": _message("typed")})
    assert task["status"]["state"] == "input-required" and "message" not in task["status"]
    [artifact] = task["artifacts"]
    _interrupt_artifact(artifact, DECISION_SCHEMA)
    thread_id = task["contextId"]
    [interrupt] = (await client.threads.get_state(thread_id))["interrupts"]
    assert artifact["parts"][0]["data"]["id"] == interrupt["id"]
    got = await _result(http, "chat_ask", "tasks/get", {"id": task["id"]})
    assert got["status"]["state"] == "input-required" and got["artifacts"] == task["artifacts"]

    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream"}
    frames = await _frames(http, "chat_ask", {**body, "params": {"message": _message("hi")}})
    *_, update, last = [f["result"] for f in frames]
    assert update["kind"] == "artifact-update"
    _interrupt_artifact(update["artifact"])
    assert last["kind"] == "status-update" and last["final"] is True
    assert last["status"]["state"] == "input-required" and "message" not in last["status"]


async def test_an_answer_resumes_the_interrupted_task_under_its_id(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    """Official: a message naming an input-required task resumes its interrupt with its data
    part ``{"resume": value}``, or else with its text; the task keeps its id."""
    task = await _result(http, "chat_ask", "message/send", {"message": _message("typed")})
    answer = {"resume": {"approved": True, "note": "ok"}}
    message = _data_message(answer, contextId=task["contextId"], taskId=task["id"])
    done = await _result(http, "chat_ask", "message/send", {"message": message})
    assert done["id"] == task["id"] and done["status"]["state"] == "completed"
    said = "You answered {'approved': True, 'note': 'ok'}."
    assert _texts(done["artifacts"][0]["parts"]) == said
    assert [(m["role"], _texts(m["parts"])) for m in done["history"]] == [
        ("user", "typed"),
        ("agent", ASKED),
        ("agent", said),
    ]
    got = await _result(http, "chat_ask", "tasks/get", {"id": task["id"]})
    assert got["status"]["state"] == "completed"
    runs = await client.runs.list(task["contextId"])
    assert [r["kwargs"]["command"] for r in runs] == [answer, None]

    plain = await _result(http, "chat_ask", "message/send", {"message": _message("hi")})
    text = _message("yes", contextId=plain["contextId"], taskId=plain["id"])
    done = await _result(http, "chat_ask", "message/send", {"message": text})
    assert (
        done["id"] == plain["id"] and _texts(done["artifacts"][0]["parts"]) == "You answered yes."
    )


async def test_only_an_input_required_task_takes_a_resume_and_a_terminal_one_nothing(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    """Official: a ``resume`` data part without a task, for a working task, or twice in one
    message is invalid params (-32602); a task that ended (here completed) takes no message at
    all (-32004). None of them starts a run."""
    completed = await _result(http, "chat", "message/send", {"message": _message("hi")})
    asking = await _result(http, "chat_ask", "message/send", {"message": _message("hi")})
    sleepy = await client.assistants.create("slow_chat", config={"configurable": {"sleep": 60}})
    aid = sleepy["assistant_id"]
    params = {"message": _message("hi"), "configuration": {"blocking": False}}
    working = await _result(http, aid, "message/send", params)
    twice = {
        **_message("x", taskId=asking["id"]),
        "parts": [{"kind": "data", "data": {"resume": 1}}, {"kind": "data", "data": {"resume": 2}}],
    }
    calls = [
        ("chat", _data_message({"resume": 1}), -32602),
        ("chat_ask", twice, -32602),
        (aid, _data_message({"resume": 1}, taskId=working["id"]), -32602),
        ("chat", _data_message({"resume": 1}, taskId=completed["id"]), -32004),
        ("chat", _message("again", taskId=completed["id"]), -32004),
    ]
    before = await _runs_created(http)
    try:
        for assistant, message, code in calls:
            reply = await _call(http, assistant, "message/send", {"message": message})
            assert reply["error"]["code"] == code, (message, reply)
        assert await _runs_created(http) == before
    finally:
        await _result(http, aid, "tasks/cancel", {"id": working["id"]})
