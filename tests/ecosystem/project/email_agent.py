"""An email assistant from ``langchain.agents.create_agent``: sending needs a human's approval
(``HumanInTheLoopMiddleware``), reading the inbox does not."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool


@tool
def read_inbox() -> str:
    """Read the unread emails of the inbox."""
    return "1 unread email from alice@example.com: 'Lunch on Friday?'"


@tool
def send_email(to: str, subject: str, body: str) -> str:
    """Send an email."""
    return f"Email sent to {to} with subject {subject!r}."


graph = create_agent(
    "openai:stub-model",
    tools=[read_inbox, send_email],
    system_prompt="You are an email assistant.",
    middleware=[
        HumanInTheLoopMiddleware(
            interrupt_on={
                "send_email": {"allowed_decisions": ["approve", "edit", "reject"]},
                "read_inbox": False,
            },
            description_prefix="Email pending approval",
        )
    ],
    name="email_agent",
)
