"""A deep agent (``deepagents.create_deep_agent``) with a research subagent and the built-in
file system tools."""

from __future__ import annotations

from deepagents import create_deep_agent
from langchain_openai import ChatOpenAI


def internet_search(query: str, max_results: int = 3) -> str:
    """Run a web search."""
    return f"Top {max_results} results for {query!r}: LangGraph orchestrates agents."


research_subagent = {
    "name": "research-agent",
    "description": "Used to research more in depth questions.",
    "system_prompt": "You are a great researcher.",
    "tools": [internet_search],
}

graph = create_deep_agent(
    model=ChatOpenAI(model="stub-model"),
    tools=[internet_search],
    system_prompt="You are an expert researcher. Write your findings to files.",
    subagents=[research_subagent],
)
