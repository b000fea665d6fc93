"""The example project (``examples/langgraph.json``) served by ``lg-deploy dev``, driven
through the official SDK the way the README's quickstart does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from langgraph_sdk.client import LangGraphClient

from tests.support import EXAMPLES, dev_server, sdk

DOCUMENT = (
    "LangGraph runs agents as graphs. Every step of a graph is checkpointed in PostgreSQL. "
    "A crashed run resumes from its last checkpoint. Agents call tools and wait for humans."
)


@pytest.fixture(scope="module")
async def examples() -> AsyncIterator[LangGraphClient]:
    """The official SDK client on ``lg-deploy dev`` serving the example project (own data)."""
    with dev_server("examples", config=EXAMPLES) as server:
        async with sdk(server) as client:
            yield client


def _user(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


async def test_each_example_graph_has_a_described_default_assistant(
    examples: LangGraphClient,
) -> None:
    assistants = await examples.assistants.search(limit=100)
    by_graph = {a["graph_id"]: a for a in assistants}
    assert set(by_graph) == {"agent", "approval", "pipeline"}
    assert "ReAct" in (by_graph["agent"]["description"] or "")


async def test_agent_answers_with_the_calculator_result(examples: LangGraphClient) -> None:
    thread = await examples.threads.create()
    result = await examples.runs.wait(
        thread["thread_id"], "agent", input=_user("What is (2 + 3) * 4?")
    )
    assert isinstance(result, dict)
    ai_call, tool, answer = result["messages"][1:]
    assert ai_call["tool_calls"][0]["name"] == "calculator"
    assert ai_call["tool_calls"][0]["args"] == {"expression": "(2 + 3) * 4"}
    assert (tool["type"], tool["name"], tool["content"]) == ("tool", "calculator", "20")
    assert answer["type"] == "ai"
    assert answer["content"] == "The answer is 20."


async def test_agent_converts_units_and_keeps_the_conversation(examples: LangGraphClient) -> None:
    thread = await examples.threads.create()
    await examples.runs.wait(thread["thread_id"], "agent", input=_user("What is 7 * 6?"))
    result = await examples.runs.wait(
        thread["thread_id"], "agent", input=_user("Convert 5 km to m")
    )
    assert isinstance(result, dict)
    assert len(result["messages"]) == 8
    assert result["messages"][-1]["content"] == "The answer is 5 km = 5000 m."


async def test_agent_is_deterministic_across_concurrent_runs(examples: LangGraphClient) -> None:
    async def ask() -> str:
        result = await examples.runs.wait(None, "agent", input=_user("What is 2 ** 10 / 4?"))
        assert isinstance(result, dict)
        return str(result["messages"][-1]["content"])

    answers = await asyncio.gather(*(ask() for _ in range(8)))
    assert answers == ["The answer is 256."] * 8


async def test_agent_reports_a_failing_tool_instead_of_failing_the_run(
    examples: LangGraphClient,
) -> None:
    thread = await examples.threads.create()
    result = await examples.runs.wait(thread["thread_id"], "agent", input=_user("What is 1 / 0?"))
    assert isinstance(result, dict)
    assert result["messages"][-1]["content"].startswith("Sorry, that did not work:")
    assert (await examples.threads.get(thread["thread_id"]))["status"] == "idle"


async def test_agent_greets_with_the_variable_from_the_env_file(examples: LangGraphClient) -> None:
    result = await examples.runs.wait(None, "agent", input=_user("hi"))
    assert isinstance(result, dict)
    assert result["messages"][-1]["content"].startswith("Hello from the lg-deploy examples!")


async def test_agent_streams_the_answer_token_by_token(examples: LangGraphClient) -> None:
    thread = await examples.threads.create()
    tokens = [
        part.data[0]["content"]
        async for part in examples.runs.stream(
            thread["thread_id"],
            "agent",
            input=_user("What is 3 * 3?"),
            stream_mode="messages-tuple",
        )
        if part.event == "messages" and part.data[0]["type"] == "AIMessageChunk"
    ]
    assert "".join(tokens) == "The answer is 9."
    assert len(tokens) > 1


REFUND = {"order_id": "A-1001", "amount": 42.5, "reason": "arrived damaged"}


async def _pause_for_approval(client: LangGraphClient) -> str:
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "approval", input=REFUND)
    assert isinstance(result, dict)
    [pending] = result["__interrupt__"]
    assert pending["value"]["question"] == "Approve this refund?"
    assert pending["value"]["action"] == {"kind": "refund", **REFUND}
    paused = await client.threads.get(thread["thread_id"])
    assert paused["status"] == "interrupted"
    [[visible]] = paused["interrupts"].values()
    assert visible["value"] == pending["value"]
    return thread["thread_id"]


async def test_approval_pauses_then_an_approval_runs_the_action(
    examples: LangGraphClient,
) -> None:
    thread_id = await _pause_for_approval(examples)
    result = await examples.runs.wait(
        thread_id, "approval", command={"resume": {"approved": True, "comment": "ok"}}
    )
    assert isinstance(result, dict)
    assert result["approved"] is True
    assert result["outcome"] == "refunded 42.50 on order A-1001"
    assert "__interrupt__" not in result
    assert (await examples.threads.get(thread_id))["status"] == "idle"


async def test_approval_rejected_skips_the_action(examples: LangGraphClient) -> None:
    thread_id = await _pause_for_approval(examples)
    result = await examples.runs.wait(
        thread_id, "approval", command={"resume": {"approved": False, "comment": "too much"}}
    )
    assert isinstance(result, dict)
    assert (result["approved"], result["comment"]) == (False, "too much")
    assert result["outcome"] == "refund for order A-1001 rejected; nothing done"
    ended = await examples.threads.get(thread_id)
    assert ended["status"] == "idle"
    assert ended["values"]["outcome"] == result["outcome"]


async def test_pipeline_streams_one_event_per_step_and_succeeds(
    examples: LangGraphClient,
) -> None:
    thread = await examples.threads.create()
    parts = [
        part
        async for part in examples.runs.stream(
            thread["thread_id"],
            "pipeline",
            input={"title": "Durable agents", "text": DOCUMENT},
            stream_mode=["custom", "values"],
            context={"step_delay": 0.01},
        )
    ]
    assert parts[0].event == "metadata"
    steps = [p.data for p in parts if p.event == "custom"]
    assert [s["index"] for s in steps] == list(range(1, 11))
    assert all(s["total"] == 10 for s in steps)
    assert steps[0]["step"] == "load" and steps[-1]["step"] == "render"
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["language"] == "en"
    assert final["report"].startswith("# Durable agents\n")

    run = await examples.runs.get(thread["thread_id"], parts[0].data["run_id"])
    assert run["status"] == "success"


async def test_pipeline_fails_cleanly_on_an_empty_document(examples: LangGraphClient) -> None:
    thread = await examples.threads.create()
    run = await examples.runs.create(
        thread["thread_id"], "pipeline", input={"title": "Nothing", "text": "   "}
    )
    await examples.runs.join(thread["thread_id"], run["run_id"])
    ended = await examples.runs.get(thread["thread_id"], run["run_id"])
    assert ended["status"] == "error"
