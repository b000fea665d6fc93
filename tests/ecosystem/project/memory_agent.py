"""A chat bot with long-term memory: it saves what the user asks it to remember in the store
(one namespace per user, semantic index) and recalls the closest memories for each message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from langchain.chat_models import init_chat_model
from langchain_core.messages import SystemMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime


@dataclass
class Context:
    """Whose memories to use."""

    user_id: str = "anonymous"
    model: str = "openai:stub-model"


async def remember(state: MessagesState, runtime: Runtime[Context]) -> dict:
    """Save the message as a memory when it starts with "remember"."""
    text = state["messages"][-1].text
    if text.lower().startswith("remember"):
        memory = text.split(" ", 1)[1].strip()
        await runtime.store.aput(
            ("memories", runtime.context.user_id), str(uuid.uuid4()), {"text": memory}
        )
    return {}


async def call_model(state: MessagesState, runtime: Runtime[Context]) -> dict:
    """Answer with the three memories closest to the message in the system prompt."""
    query = state["messages"][-1].text
    found = await runtime.store.asearch(("memories", runtime.context.user_id), query=query, limit=3)
    memories = [item.value["text"] for item in found]
    get_stream_writer()({"memories": memories})
    system = SystemMessage(
        "You are a helpful assistant. What you know about the user:\n" + "\n".join(memories)
    )
    model = init_chat_model(runtime.context.model)
    response = await model.ainvoke([system, *state["messages"]])
    return {"messages": [response]}


builder = StateGraph(MessagesState, context_schema=Context)
builder.add_node(remember)
builder.add_node(call_model)
builder.add_edge(START, "remember")
builder.add_edge("remember", "call_model")
builder.add_edge("call_model", END)
graph = builder.compile(name="MemoryAgent")
