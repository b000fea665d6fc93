"""Two agents handing the conversation to each other (``langgraph-swarm``)."""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent
from langgraph_swarm import create_handoff_tool, create_swarm

model = ChatOpenAI(model="stub-model")


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


alice = create_react_agent(
    model,
    [
        add,
        create_handoff_tool(
            agent_name="Bob", description="Transfer to Bob, he speaks like a pirate."
        ),
    ],
    prompt="You are Alice, an addition expert.",
    name="Alice",
)
bob = create_react_agent(
    model,
    [
        create_handoff_tool(
            agent_name="Alice", description="Transfer to Alice, she can help with math."
        )
    ],
    prompt="You are Bob, you speak like a pirate.",
    name="Bob",
)

graph = create_swarm([alice, bob], default_active_agent="Alice").compile()
