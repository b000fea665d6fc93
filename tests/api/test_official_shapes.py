"""What lg-deploy returns and streams has the official server's shapes (issue 8, "Real-world
drop-in"). Each test names the official behaviour it pins; those were observed by running
``langgraph dev`` (langgraph-api 0.16.7) on the same graphs (tests/graphs/shapes.py) with the
same requests.
"""

from __future__ import annotations

from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamPart

from shared.ids import system_assistant_id

DECISION_SCHEMA = {
    "properties": {
        "approved": {"title": "Approved", "type": "boolean"},
        "note": {"title": "Note", "type": "string"},
    },
    "required": ["approved", "note"],
    "title": "Decision",
    "type": "object",
}


async def _stream(
    client: LangGraphClient, graph: str, graph_input: Any, **kwargs: Any
) -> tuple[str, list[StreamPart]]:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    return tid, [p async for p in client.runs.stream(tid, graph, input=graph_input, **kwargs)]


# --- a. output schema ------------------------------------------------------------------------


async def test_output_schema_limits_values_updates_and_results_not_the_thread_state(
    client: LangGraphClient,
) -> None:
    """Official: ``values`` and ``updates`` carry only the output schema's keys (a node that
    wrote none of them updates ``null``), wait/join answer only them; the thread's values,
    state and history keep the whole state."""
    tid, parts = await _stream(
        client, "enrich", {"topic": "cats"}, stream_mode=["values", "updates"]
    )
    info = {"topic": "cats", "notes": 1}
    assert [(p.event, p.data) for p in parts[1:]] == [
        ("updates", {"research": None}),
        ("updates", {"summarize": {"info": info}}),
        ("values", {"info": info}),
    ]
    whole = {"topic": "cats", "notes": ["about cats"], "info": info}
    assert (await client.threads.get_state(tid))["values"] == whole
    assert (await client.threads.get_history(tid, limit=1))[0]["values"] == whole
    assert (await client.threads.get(tid))["values"] == whole

    dogs = await client.runs.wait(tid, "enrich", input={"topic": "dogs"})
    assert dogs == {"info": {"topic": "dogs", "notes": 2}}
    assert await client.runs.wait(None, "enrich", input={"topic": "x"}) == {
        "info": {"topic": "x", "notes": 1}
    }


async def test_output_schema_result_of_an_interrupted_run_is_only_the_interrupt(
    client: LangGraphClient,
) -> None:
    """Official: a run of an output-schema graph that pauses answers ``{"__interrupt__"}``
    (no output key was written yet); the resumed run's join answers the output keys."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    paused = await client.runs.wait(tid, "enrich", input={"topic": "ask me"})
    assert list(paused) == ["__interrupt__"]
    assert paused["__interrupt__"][0]["value"] == {"question": "publish?"}
    run = await client.runs.create(tid, "enrich", command={"resume": "yes"})
    assert await client.runs.join(tid, run["run_id"]) == {"info": {"topic": "ask me", "notes": 1}}


# --- b. schemas ------------------------------------------------------------------------------


async def test_config_schema_is_the_configurable_options_or_empty(
    client: LangGraphClient,
) -> None:
    """Official: ``config_schema`` is the schema of ``config.configurable`` (in LangGraph 1.x
    the context schema), ``{}`` for a graph without one; the state schema is titled after the
    graph id (a graph keeps LangGraph's default name only in LangGraph)."""
    echo = await client.assistants.get_schemas(str(system_assistant_id("echo")))
    assert echo["config_schema"] == {} and echo["context_schema"] is None
    assert echo["state_schema"]["title"] == "echo_state"
    configured = await client.assistants.get_schemas(str(system_assistant_id("configured")))
    settings = {
        "properties": {
            "model": {"title": "Model", "type": "string"},
            "temperature": {"title": "Temperature", "type": "number"},
        },
        "title": "Settings",
        "type": "object",
    }
    assert configured["config_schema"] == configured["context_schema"] == settings
    enrich = await client.assistants.get_schemas(str(system_assistant_id("enrich")))
    assert enrich["input_schema"]["title"] == "EnrichInput"
    assert list(enrich["output_schema"]["properties"]) == ["info"]
    assert list(enrich["state_schema"]["properties"]) == ["topic", "notes", "info"]


async def test_state_schema_lists_private_channels(client: LangGraphClient) -> None:
    """Official: the state schema has every channel, private ones (``_name``, as deepagents'
    middleware keeps) too, titled without the underscore."""
    schemas = await client.assistants.get_schemas(str(system_assistant_id("scratch")))
    properties = schemas["state_schema"]["properties"]
    assert list(properties) == ["answer", "_scratch"]
    assert properties["_scratch"]["title"] == "Scratch"
    assert properties["_scratch"]["type"] == "array"


# --- c. system assistant name ----------------------------------------------------------------


async def test_system_assistant_takes_the_graph_name_else_the_graph_id(
    client: LangGraphClient,
) -> None:
    """Official: a graph compiled with ``name="MemoryAgent"`` gives its system assistant that
    name; graphs with LangGraph's default name, and factories, give their graph id."""
    named = await client.assistants.get(str(system_assistant_id("named")))
    assert named["name"] == "MemoryAgent"
    for graph_id in ("echo", "factory"):
        assert (await client.assistants.get(str(system_assistant_id(graph_id))))["name"] == graph_id


# --- d. new thread values --------------------------------------------------------------------


async def test_a_new_thread_has_null_values(client: LangGraphClient) -> None:
    """Official: ``values`` is ``null`` until the thread has state: create, get, search, copy;
    its state endpoint still answers ``values: {}``."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    assert thread["values"] is None
    assert (await client.threads.get(tid))["values"] is None
    assert [t["values"] for t in await client.threads.search(ids=[tid])] == [None]
    assert (await client.threads.copy(tid))["values"] is None
    assert (await client.threads.get_state(tid))["values"] == {}


# --- e. interrupt response_schema ------------------------------------------------------------


async def test_interrupts_keep_their_response_schema(client: LangGraphClient) -> None:
    """Official: a streamed interrupt has every field (``value``, ``id``, ``response_schema``);
    the thread's ``interrupts`` and its state list ``id``, ``value`` and the schema (only when
    there is one)."""
    tid, parts = await _stream(
        client, "typed_ask", {"items": []}, stream_mode=["values", "updates"]
    )
    streamed = [p.data["__interrupt__"] for p in parts if "__interrupt__" in p.data]
    (interrupt_id,) = {i["id"] for found in streamed for i in found}
    expected = {"value": {"question": "approve?"}, "id": interrupt_id}
    assert streamed == [[{**expected, "response_schema": DECISION_SCHEMA}]] * 2

    listed = {"id": interrupt_id, "value": {"question": "approve?"}}
    schema = {"response_schema": DECISION_SCHEMA}
    state = await client.threads.get_state(tid)
    assert state["interrupts"] == state["tasks"][0]["interrupts"] == [{**listed, **schema}]
    assert list((await client.threads.get(tid))["interrupts"].values()) == [[{**listed, **schema}]]

    paused = await client.runs.wait(None, "typed_ask", input={"items": []})
    assert paused["__interrupt__"][0]["response_schema"] == DECISION_SCHEMA
    plain = await client.runs.wait(None, "human", input={"items": []})
    assert plain["__interrupt__"][0]["response_schema"] is None
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "human", input={"items": []})
    (plain_state,) = (await client.threads.get_state(thread["thread_id"]))["interrupts"]
    assert set(plain_state) == {"id", "value"}


# --- f. legacy messages mode -----------------------------------------------------------------


async def test_legacy_messages_mode_sends_whole_ai_messages(client: LangGraphClient) -> None:
    """Official: ``messages/metadata`` once per message id, then the message so far as a whole
    ``ai`` message: ``messages/complete`` for a node's whole message, ``messages/partial`` with
    the chunks added up while a model streams."""
    _, parts = await _stream(
        client, "talk", {"messages": [{"role": "user", "content": "hi"}]}, stream_mode="messages"
    )
    names = [p.event for p in parts]
    assert names[:4] == ["metadata", "messages/metadata", "messages/complete", "messages/metadata"]
    assert set(names[4:]) == {"messages/partial"}
    assert list(parts[1].data) == ["note-1"]
    assert parts[1].data["note-1"]["metadata"]["langgraph_node"] == "note"
    (complete,) = parts[2].data
    assert (complete["type"], complete["id"], complete["content"]) == ("ai", "note-1", "noted")
    (model_id,) = parts[3].data
    partials = [p.data[0] for p in parts[4:]]
    assert {(m["type"], m["id"]) for m in partials} == {("ai", model_id)}
    assert all("tool_call_chunks" not in m for m in partials)
    assert [m["content"] for m in partials] == [
        "hello",
        "hello ",
        "hello there",
        "hello there ",
        "hello there friend",
    ]


async def test_messages_tuple_wins_when_both_messages_modes_are_asked(
    client: LangGraphClient,
) -> None:
    """Official: with ``messages`` and ``messages-tuple`` both asked, only tuples are sent."""
    _, parts = await _stream(
        client,
        "chat",
        {"messages": [{"role": "user", "content": "hi"}]},
        stream_mode=["messages", "messages-tuple"],
    )
    assert {p.event for p in parts[1:]} == {"messages"}


# --- g. key order of run input ---------------------------------------------------------------


async def test_run_input_context_and_resume_keep_their_key_order(client: LangGraphClient) -> None:
    """Official: the graph sees the input, context and resume value with the keys in the
    order the client sent them, and the run's kwargs and result keep it too."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    payload = {"zeta": 1, "alpha": 2, "mid": 3, "b": 4}
    context = {"zz": 1, "aa": 2, "m": 3}
    first = await client.runs.wait(tid, "order", input={"payload": payload}, context=context)
    assert first["seen"] == {"payload": ["zeta", "alpha", "mid", "b"], "context": ["zz", "aa", "m"]}
    assert list(first["payload"]) == list(payload)
    (run,) = await client.runs.list(tid)
    assert list(run["kwargs"]["input"]["payload"]) == list(payload)
    assert list(run["kwargs"]["context"]) == list(context)

    await client.runs.wait(tid, "order", input={"ask": True})
    resumed = await client.runs.wait(tid, "order", command={"resume": {"yes": 1, "abc": 2, "x": 3}})
    assert resumed["seen"]["resume"] == ["yes", "abc", "x"]


# --- h. debug checkpoints --------------------------------------------------------------------


async def test_debug_checkpoint_events_carry_their_checkpoint(client: LangGraphClient) -> None:
    """Official: a ``debug`` checkpoint payload has ``checkpoint`` and ``parent_checkpoint``
    (``checkpoint_id``, ``thread_id``, ``checkpoint_ns``) beside its configs; ``checkpoints``
    events do not."""
    tid, parts = await _stream(client, "echo", {"items": []}, stream_mode=["debug", "checkpoints"])
    debug = [p.data for p in parts if p.event == "debug"]
    checkpoints = [d["payload"] for d in debug if d["type"] == "checkpoint"]
    assert len(checkpoints) == 3  # the input, before the node, after it
    assert checkpoints[0]["parent_checkpoint"] is None
    for payload in checkpoints:
        conf = payload["config"]["configurable"]
        assert payload["checkpoint"] == {
            "checkpoint_id": conf["checkpoint_id"],
            "thread_id": tid,
            "checkpoint_ns": "",
        }
    assert checkpoints[-1]["parent_checkpoint"] == checkpoints[-2]["checkpoint"]
    assert all("checkpoint" not in p.data for p in parts if p.event == "checkpoints")


# --- i. joined stream filter -----------------------------------------------------------------


async def test_joined_stream_sends_only_the_asked_modes(client: LangGraphClient) -> None:
    """Official: joining with ``stream_mode`` sends only events of those modes: ``metadata``
    and ``error`` only when asked for by name; either messages mode sends every messages
    event. Without ``stream_mode`` everything is sent."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(
        tid, "fail", input={"items": []}, stream_mode=["values", "updates"], stream_resumable=True
    )
    await client.runs.join(tid, run["run_id"])

    async def joined(modes: Any) -> list[str]:
        stream = client.runs.join_stream(tid, run["run_id"], stream_mode=modes, last_event_id="-1")
        return [p.event async for p in stream]

    assert await joined(["values"]) == ["values"]
    assert await joined(["metadata"]) == ["metadata"]
    assert await joined(["error"]) == ["error"]
    assert await joined(None) == ["metadata", "values", "error"]

    run = await client.runs.create(
        tid,
        "chat",
        input={"messages": [{"role": "user", "content": "hi"}]},
        stream_mode=["messages-tuple", "values"],
        stream_resumable=True,
    )
    await client.runs.join(tid, run["run_id"])
    for modes in (["messages"], ["messages-tuple"]):
        assert set(await joined(modes)) == {"messages"}


# --- j. select on list runs ------------------------------------------------------------------


async def test_list_runs_select_keeps_only_the_selected_fields(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    """Official: ``select`` (repeated) keeps only those Run fields, in the Run's order
    (``langsmith_session_name`` among them, null without LangSmith tracing); an unknown field
    name is a 422 whose detail lists the unknown names and the known ones."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "echo", input={"items": []})
    runs = await client.runs.list(tid, select=["status", "run_id"])
    assert [list(r) for r in runs] == [["run_id", "status"]]
    assert runs[0]["status"] == "success"
    whole = await client.runs.list(tid)
    assert list(whole[0])[:10] == [
        "run_id",
        "thread_id",
        "assistant_id",
        "metadata",
        "status",
        "kwargs",
        "multitask_strategy",
        "created_at",
        "updated_at",
        "langsmith_session_name",
    ]
    traced = await client.runs.list(tid, select=["langsmith_session_name"])
    assert traced == [{"langsmith_session_name": None}]
    for wrong in (["run_id", "nope", "worse"], [""]):
        answer = await http.get(f"/threads/{tid}/runs", params={"select": wrong})
        assert answer.status_code == 422
        detail = answer.json()["detail"]
        unknown = [name for name in wrong if name != "run_id"]
        assert detail.startswith(f"Invalid select columns: {unknown}. Expected: {{")
        assert "'langsmith_session_name'" in detail and detail.endswith("}")


async def test_search_select_keeps_each_item_in_its_own_order(client: LangGraphClient) -> None:
    """Official: ``select`` on assistant and cron search keeps the fields in the object's own
    order, not the order asked for."""
    assistants = await client.assistants.search(graph_id="echo", select=["name", "assistant_id"])
    assert assistants and all(list(a) == ["assistant_id", "name"] for a in assistants)
    cron = await client.crons.create("echo", schedule="0 3 * * *", metadata={"test": "select"})
    try:
        found = await client.crons.search(
            metadata={"test": "select"}, select=["schedule", "cron_id"]
        )
        assert [list(c) for c in found] == [["cron_id", "schedule"]]
    finally:
        await client.crons.delete(cron["cron_id"])


# --- k. Send objects -------------------------------------------------------------------------


async def test_send_objects_are_written_with_node_and_args(client: LangGraphClient) -> None:
    """Official: a ``Send`` in a graph's state is ``{"node", "args"}`` in streamed updates and
    values, the thread's state and the thread's values."""
    tid, parts = await _stream(client, "fan", {"topics": ["a", "b"]}, stream_mode="updates")
    plan = [{"node": "work", "args": {"topic": t}} for t in ("a", "b")]
    assert parts[1].data == {"plan": {"plan": plan}}
    assert {p.data["work"]["done"][0] for p in parts[2:]} == {"a", "b"}
    assert (await client.threads.get_state(tid))["values"]["plan"] == plan
    assert (await client.threads.get(tid))["values"]["plan"] == plan
