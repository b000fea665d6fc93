"""Graphs built from PyPI packages (tests/ecosystem/project), served by ``lg-deploy dev`` and
driven through the official ``langgraph_sdk`` the way their users drive them. The models are the
local stub (:mod:`tests.ecosystem.llm_stub`): its ``CALL``/``SAY`` directives make the tool calls
and answers known in advance, so each test asserts what really happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.ecosystem.conftest import LlmStub
from tests.ecosystem.prompts import INFO_SCHEMA, call, user
from tests.support import Server, sdk


@pytest.fixture(scope="module")
async def client(lg_deploy: Server) -> AsyncIterator[LangGraphClient]:
    """The official client on this module's lg-deploy (the project, models on the stub)."""
    async with sdk(lg_deploy) as c:
        yield c


async def new_thread(client: LangGraphClient) -> str:
    return str((await client.threads.create())["thread_id"])


def tool_calls(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """``(name, args)`` of every tool call the AI messages made, in order."""
    return [(c["name"], c["args"]) for m in messages for c in m.get("tool_calls") or []]


def tool_results(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Tool name → the content of its (last) tool message."""
    return {m["name"]: m["content"] for m in messages if m["type"] == "tool"}


def calls_in_updates(parts: list[Any], prefix: str) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls in the ``updates`` events whose name starts with ``prefix``."""
    updates = [u or {} for p in parts if p.event.startswith(prefix) for u in p.data.values()]
    return [c for u in updates for c in tool_calls(u.get("messages", []))]


def system_prompt(request: dict[str, Any]) -> str:
    """The system message of a chat request the stub received."""
    return next(m["content"] for m in request["messages"] if m["role"] == "system")


# --- react agent (langgraph.prebuilt.create_react_agent, context_schema) ----------------------


async def test_react_agent_calls_its_tools_with_the_context_defaults(
    client: LangGraphClient, llm_stub: LlmStub
) -> None:
    """No context sent: the Context dataclass' defaults apply (model, prompt, user name)."""
    tid = await new_thread(client)
    ask = user(call("get_weather", city="Lisbon"), call("whoami"), "SAY Sunny in Lisbon.")
    result = await client.runs.wait(tid, "react_agent", input=ask)

    messages = result["messages"]
    assert tool_calls(messages) == [("get_weather", {"city": "Lisbon"}), ("whoami", {})]
    assert tool_results(messages) == {
        "get_weather": "It is always sunny in Lisbon.",
        "whoami": "You are guest.",
    }
    assert messages[-1]["content"] == "Sunny in Lisbon."
    sent = llm_stub.requests_mentioning("Lisbon")
    assert {r["model"] for r in sent} == {"stub-model"}
    assert system_prompt(sent[0]) == "You are a helpful assistant. You are talking to guest."


async def test_react_agent_takes_model_and_user_from_the_run_context(
    client: LangGraphClient, llm_stub: LlmStub
) -> None:
    tid = await new_thread(client)
    ask = user(call("whoami"), "SAY Hello Grace, I know Oslo.")
    result = await client.runs.wait(
        tid, "react_agent", input=ask, context={"user_name": "Grace", "model": "openai:big"}
    )

    assert tool_results(result["messages"]) == {"whoami": "You are Grace."}
    sent = llm_stub.requests_mentioning("Grace, I know Oslo")
    assert {r["model"] for r in sent} == {"big"}
    assert system_prompt(sent[0]).endswith("You are talking to Grace.")


async def test_react_agent_streams_its_answer_token_by_token(client: LangGraphClient) -> None:
    tid = await new_thread(client)
    ask = user(call("get_weather", city="Rome"), "SAY It is sunny in Rome today.")
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "react_agent",
            input=ask,
            stream_mode=["messages-tuple", "updates", "values"],
            context={"user_name": "Ada"},
        )
    ]

    chunks = [p.data[0] for p in parts if p.event == "messages"]
    answer = [c for c in chunks if c["type"] == "AIMessageChunk" and c["content"]]
    assert [c["content"] for c in answer] == ["It ", "is ", "sunny ", "in ", "Rome ", "today."]
    assert len({c["id"] for c in answer}) == 1
    streamed_args = "".join(
        t["args"] or "" for c in chunks for t in c.get("tool_call_chunks") or []
    )
    assert streamed_args == '{"city": "Rome"}'
    assert [next(iter(p.data)) for p in parts if p.event == "updates"] == [
        "agent",
        "tools",
        "agent",
    ]
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["messages"][-1]["content"] == "It is sunny in Rome today."


async def test_react_agent_events_show_the_model_and_tool_runs(client: LangGraphClient) -> None:
    """``events`` mode: LangChain's callback events of the run (astream_events v2)."""
    tid = await new_thread(client)
    ask = user(call("get_weather", city="Kyoto"), "SAY Kyoto is sunny.")
    events = [
        p.data
        async for p in client.runs.stream(
            tid, "react_agent", input=ask, stream_mode="events", context={"user_name": "Ada"}
        )
        if p.event == "events"
    ]

    kinds = [(e["event"], e["name"]) for e in events]
    assert (kinds[0][0], kinds[-1][0]) == ("on_chain_start", "on_chain_end")
    assert ("on_tool_start", "get_weather") in kinds
    tool_end = next(e for e in events if e["event"] == "on_tool_end")
    assert tool_end["data"]["output"]["content"] == "It is always sunny in Kyoto."
    tokens = [e["data"]["chunk"]["content"] for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(tokens) == "Kyoto is sunny."


async def test_react_agent_schemas_show_the_context_defaults(client: LangGraphClient) -> None:
    assistant = (await client.assistants.search(graph_id="react_agent"))[0]
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])

    context = schemas["context_schema"]["properties"]
    assert context["model"]["default"] == "openai:stub-model"
    assert context["user_name"]["default"] == "guest"
    assert "messages" in schemas["input_schema"]["properties"]
    drawing = await client.assistants.get_graph(assistant["assistant_id"])
    assert {n["id"] for n in drawing["nodes"]} == {"__start__", "agent", "tools", "__end__"}


# --- human review (langchain.agents.create_agent + HumanInTheLoopMiddleware) -------------------

SEND = user(
    call("send_email", to="dora@example.com", subject="Report", body="Attached."),
    "SAY Done with the report email.",
)


async def interrupted(client: LangGraphClient) -> tuple[str, dict[str, Any]]:
    """A thread whose email_agent run stopped for review, and the interrupt."""
    tid = await new_thread(client)
    result = await client.runs.wait(tid, "email_agent", input=SEND)
    return tid, result["__interrupt__"][0]


async def test_email_agent_stops_for_review_with_the_action_requests(
    client: LangGraphClient,
) -> None:
    tid, interrupt = await interrupted(client)

    request = interrupt["value"]["action_requests"][0]
    assert request["name"] == "send_email"
    assert request["args"] == {"to": "dora@example.com", "subject": "Report", "body": "Attached."}
    assert request["description"].startswith("Email pending approval")
    assert interrupt["value"]["review_configs"] == [
        {"action_name": "send_email", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["next"] == ["HumanInTheLoopMiddleware.after_model"]
    assert state["tasks"][0]["interrupts"][0]["id"] == interrupt["id"]


async def test_email_agent_sends_after_approval(client: LangGraphClient) -> None:
    tid, _ = await interrupted(client)
    result = await client.runs.wait(
        tid, "email_agent", command=Command(resume={"decisions": [{"type": "approve"}]})
    )

    results = tool_results(result["messages"])
    assert results == {"send_email": "Email sent to dora@example.com with subject 'Report'."}
    assert result["messages"][-1]["content"] == "Done with the report email."
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_email_agent_sends_the_edited_email(client: LangGraphClient) -> None:
    tid, _ = await interrupted(client)
    edited = {"name": "send_email", "args": {"to": "eve@example.com", "subject": "R", "body": "B"}}
    resume = {"decisions": [{"type": "edit", "edited_action": edited}]}
    result = await client.runs.wait(tid, "email_agent", command=Command(resume=resume))

    assert "Email sent to eve@example.com" in tool_results(result["messages"])["send_email"]


async def test_email_agent_does_not_send_a_rejected_email(client: LangGraphClient) -> None:
    tid, _ = await interrupted(client)
    resume = {"decisions": [{"type": "reject", "message": "Do not send it today."}]}
    parts = [
        p
        async for p in client.runs.stream(
            tid, "email_agent", command=Command(resume=resume), stream_mode="updates"
        )
    ]

    updates = [p.data for p in parts if p.event == "updates"]
    review = updates[0]["HumanInTheLoopMiddleware.after_model"]
    assert review["messages"][-1]["content"].endswith("with reason: Do not send it today.")
    assert "tools" not in {node for u in updates for node in u}


async def test_email_agent_reads_the_inbox_without_review(client: LangGraphClient) -> None:
    tid = await new_thread(client)
    ask = user(call("read_inbox"), "SAY One email from Alice.")
    result = await client.runs.wait(tid, "email_agent", input=ask)

    assert "__interrupt__" not in result
    assert "alice@example.com" in tool_results(result["messages"])["read_inbox"]


# --- deep agent (deepagents.create_deep_agent) ------------------------------------------------


async def test_deep_agent_writes_files_in_its_state(client: LangGraphClient) -> None:
    tid = await new_thread(client)
    ask = user(call("write_file", file_path="/plan.md", content="1. research\n"), "SAY Planned.")
    await client.runs.wait(tid, "deep_agent", input=ask)
    ask = user(call("read_file", file_path="/plan.md"), "SAY I read the plan.")
    result = await client.runs.wait(tid, "deep_agent", input=ask)

    state = await client.threads.get_state(tid)
    assert state["values"]["files"]["/plan.md"]["content"] == "1. research\n"
    assert "1. research" in tool_results(result["messages"])["read_file"]
    history = await client.threads.get_history(tid, limit=100)
    assert history[0]["checkpoint"] == state["checkpoint"]
    assert len(history) > 6


async def test_deep_agent_delegates_to_its_subagent(
    client: LangGraphClient, llm_stub: LlmStub
) -> None:
    tid = await new_thread(client)
    brief = "\n".join([call("internet_search", query="pregel"), "SAY Pregel is a BSP model."])
    ask = user(call("task", description=brief, subagent_type="research-agent"), "SAY Delegated.")
    parts = [
        p
        async for p in client.runs.stream(
            tid, "deep_agent", input=ask, stream_mode="updates", stream_subgraphs=True
        )
    ]

    assert calls_in_updates(parts, "updates|tools:") == [("internet_search", {"query": "pregel"})]
    final = (await client.threads.get_state(tid))["values"]["messages"]
    assert tool_results(final)["task"] == "Pregel is a BSP model."
    sent = llm_stub.requests_mentioning("Pregel is a BSP model")
    assert any(system_prompt(r).startswith("You are a great researcher.") for r in sent)


# --- supervisor (langgraph-supervisor) and swarm (langgraph-swarm) ---------------------------


async def test_supervisor_hands_the_question_to_the_math_expert(client: LangGraphClient) -> None:
    tid = await new_thread(client)
    ask = user(call("transfer_to_math_expert"), call("multiply", a=6, b=7), "SAY It is 42.")
    parts = [
        p
        async for p in client.runs.stream(
            tid, "research_team", input=ask, stream_mode="updates", stream_subgraphs=True
        )
    ]

    assert calls_in_updates(parts, "updates|math_expert:") == [("multiply", {"a": 6, "b": 7})]
    messages = (await client.threads.get_state(tid))["values"]["messages"]
    assert [(m["type"], m.get("name")) for m in messages] == [
        ("human", None),
        ("ai", "supervisor"),
        ("tool", "transfer_to_math_expert"),
        ("ai", "math_expert"),
        ("ai", "math_expert"),
        ("tool", "transfer_back_to_supervisor"),
        ("ai", "supervisor"),
    ]
    assert messages[-1]["content"] == "It is 42."


async def test_swarm_hands_off_and_the_next_turn_stays_with_the_new_agent(
    client: LangGraphClient, llm_stub: LlmStub
) -> None:
    tid = await new_thread(client)
    first = await client.runs.wait(
        tid, "swarm", input=user(call("transfer_to_bob"), "SAY Ahoy from Bob.")
    )
    assert first["active_agent"] == "Bob"
    assert tool_calls(first["messages"]) == [("transfer_to_bob", {})]
    assert (first["messages"][-1]["name"], first["messages"][-1]["content"]) == (
        "Bob",
        "Ahoy from Bob.",
    )

    second = await client.runs.wait(tid, "swarm", input=user("SAY Bob again, matey."))
    assert second["active_agent"] == "Bob"
    assert second["messages"][-1]["name"] == "Bob"
    sent = llm_stub.requests_mentioning("Bob again, matey")
    assert [system_prompt(r) for r in sent] == ["You are Bob, you speak like a pirate."]


# --- memory (store with an index) --------------------------------------------------------------


async def remember(client: LangGraphClient, text: str, **kwargs: Any) -> list[list[str]]:
    """One memory_agent run; the memories it recalled (its custom events)."""
    tid = await new_thread(client)
    return [
        p.data["memories"]
        async for p in client.runs.stream(
            tid, "memory_agent", input=user(text), stream_mode="custom", **kwargs
        )
        if p.event == "custom"
    ]


async def test_memories_are_found_by_meaning(client: LangGraphClient) -> None:
    context = {"user_id": "user-semantic"}
    await remember(client, "remember I play the violin on sundays", context=context)
    await remember(client, "remember my dog is named Rex", context=context)
    recalled = await remember(client, "what is my dog named", context=context)

    assert recalled == [["my dog is named Rex", "I play the violin on sundays"]]
    found = await client.store.search_items(
        ["memories", "user-semantic"], query="dog named", limit=1
    )
    assert [i["value"]["text"] for i in found["items"]] == ["my dog is named Rex"]
    assert found["items"][0]["score"] > 0


async def test_memories_use_the_context_default_user(client: LangGraphClient) -> None:
    """No context: the memories go to the default user's namespace (``anonymous``)."""
    await remember(client, "remember the sky is blue over Madrid")

    found = await client.store.search_items(["memories", "anonymous"], query="Madrid sky")
    assert "the sky is blue over Madrid" in [i["value"]["text"] for i in found["items"]]


# --- output schema (data-enrichment style) ------------------------------------------------------

TOPIC = {
    "topic": "\n".join(
        [
            "LangGraph",
            call("search", query="LangGraph founder"),
            call("Info", founder="Harrison Chase", year=2024),
        ]
    ),
    "extraction_schema": INFO_SCHEMA,
}


async def test_enrichment_returns_only_its_output_schema(client: LangGraphClient) -> None:
    tid = await new_thread(client)
    result = await client.runs.wait(tid, "enrichment", input=TOPIC)
    assert result == {"info": {"founder": "Harrison Chase", "year": 2024}}

    values = [
        p.data
        async for p in client.runs.stream(
            await new_thread(client), "enrichment", input=TOPIC, stream_mode="values"
        )
        if p.event == "values"
    ]
    assert values[-1] == {"info": {"founder": "Harrison Chase", "year": 2024}}
    assert all(set(v) <= {"info"} for v in values)
    state = await client.threads.get_state(tid)
    assert {"topic", "messages", "loop_step", "info"} <= set(state["values"])


async def test_enrichment_schemas_split_input_output_and_state(client: LangGraphClient) -> None:
    assistant = (await client.assistants.search(graph_id="enrichment"))[0]
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])

    assert set(schemas["input_schema"]["properties"]) == {"topic", "extraction_schema"}
    assert set(schemas["output_schema"]["properties"]) == {"info"}
    assert {"messages", "loop_step", "info"} <= set(schemas["state_schema"]["properties"])
