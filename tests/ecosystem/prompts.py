"""What the ecosystem tests send the project's graphs: user messages whose ``CALL``/``SAY``
directives make the model stub (:mod:`tests.ecosystem.llm_stub`) call tools and answer
deterministically, and the other inputs, shared by the behaviour and the parity tests."""

from __future__ import annotations

import json
from typing import Any


def user(*lines: str) -> dict[str, Any]:
    """A graph input of one user message made of ``lines``."""
    return {"messages": [{"role": "user", "content": "\n".join(lines)}]}


def call(tool: str, **args: Any) -> str:
    """A directive line: the model calls ``tool`` with ``args``."""
    return f"CALL {tool} {json.dumps(args)}"


WEATHER = user(call("get_weather", city="Paris"), "SAY It is sunny in Paris.")
"""react_agent: a tool call, then the answer."""

WHOAMI = user(call("whoami"), "SAY I know who you are.")
"""react_agent: the tool that reads the run's context."""

EMAIL = user(
    call("send_email", to="bob@example.com", subject="Lunch", body="Friday at noon?"),
    "SAY Your email is on its way.",
)
"""email_agent: a tool call the human-in-the-loop middleware stops for review."""

INBOX = user(call("read_inbox"), "SAY You have one unread email.")
"""email_agent: a tool call that needs no review."""

NOTES = user(call("write_file", file_path="/notes.md", content="# Notes\n"), "SAY Saved.")
"""deep_agent: its built-in file tool."""

RESEARCH = user(
    call(
        "task",
        description="\n".join(
            [call("internet_search", query="langgraph"), "SAY LangGraph orchestrates agents."]
        ),
        subagent_type="research-agent",
    ),
    "SAY According to my researcher, LangGraph orchestrates agents.",
)
"""deep_agent: delegates to its research subagent, whose own message carries the directives
the subagent's model follows."""

SUM = user(call("transfer_to_math_expert"), call("add", a=2, b=3), "SAY The sum is 5.")
"""research_team: the supervisor hands over to the math expert, who uses its tool."""

HANDOFF = user(call("transfer_to_bob"), "SAY Arr, Bob here.")
"""swarm: Alice hands the conversation to Bob."""

STILL_BOB = user("SAY Arr, still Bob.")
"""swarm: the next turn on the same thread goes to the active agent."""

REMEMBER_HIKING = user("remember I like hiking in the mountains")
REMEMBER_CAT = user("remember my cat is called Tom")
ASK_CAT = user("SAY Your cat is Tom.", "what is my cat called")
"""memory_agent: two memories saved, then the one sharing words with the question is found."""

INFO_SCHEMA = {
    "type": "object",
    "properties": {"founder": {"type": "string"}, "year": {"type": "integer"}},
    "required": ["founder"],
}
TOPIC = {
    "topic": "\n".join(
        [
            "LangChain",
            call("search", query="LangChain founder"),
            call("Info", founder="Harrison Chase", year=2022),
        ]
    ),
    "extraction_schema": INFO_SCHEMA,
}
"""enrichment: one search, then the extraction schema filled."""
