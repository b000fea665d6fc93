"""Graphs the JavaScript ecosystem tests drive, built as LangChain users build them.

Every model is ``ChatOpenAI`` on the local stub (``tests/ecosystem/llm_stub.py``: the server
gets ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` from the ``llm_stub`` fixture); the user message's
``CALL <tool> <json>`` / ``SAY <text>`` lines decide the model's tool calls and answer.

- ``agent``: LangChain's prebuilt agent (``create_agent``) with two tools; ``lookup`` also
  writes ``custom`` stream events.
- ``approval``: the same agent with ``HumanInTheLoopMiddleware`` on ``refund``: the run stops
  at an ``interrupt()`` whose value is a ``HITLRequest``; ``Command(resume={"decisions":
  [{"type": "approve"}]})`` (or ``reject``) decides.
- ``slow``: one node that streams the model's answer at :data:`TOKEN_DELAY_SECONDS` a token
  (a long run whose tokens arrive over seconds: for rejoin, cancel and resumable streams) and
  writes a ``custom`` event per token.
"""

from __future__ import annotations

import asyncio

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph

TOKEN_DELAY_SECONDS = 0.1
"""Pause of the ``slow`` graph after each streamed token."""


def _model() -> ChatOpenAI:
    return ChatOpenAI(model="stub-model", temperature=0, max_retries=0)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the (fake) knowledge base; reports progress as custom events."""
    write = get_stream_writer()
    write({"lookup": topic, "progress": "started"})
    write({"lookup": topic, "progress": "done"})
    return f"{topic} is documented"


@tool
def refund(order: str, amount: float) -> str:
    """Refund ``amount`` on ``order`` (needs a human's approval)."""
    return f"refunded {amount:.2f} on {order}"


agent = create_agent(_model(), tools=[add, lookup], name="agent")

approval = create_agent(
    _model(),
    tools=[refund],
    middleware=[HumanInTheLoopMiddleware(interrupt_on={"refund": True})],
    name="approval",
)


async def _answer(state: MessagesState) -> dict[str, list[AIMessageChunk]]:
    write = get_stream_writer()
    answer: AIMessageChunk | None = None
    index = 0
    async for chunk in _model().astream(state["messages"]):
        answer = chunk if answer is None else answer + chunk
        if chunk.content:
            write({"token": index})
            index += 1
            await asyncio.sleep(TOKEN_DELAY_SECONDS)
    assert answer is not None
    return {"messages": [answer]}


slow = (
    StateGraph(MessagesState)
    .add_node("answer", _answer)
    .add_edge(START, "answer")
    .add_edge("answer", END)
    .compile(name="slow")
)
