"""``agent``: a ReAct agent that calls tools in a loop until it can answer.

    START → agent ─(tool calls?)→ tools → agent → … → END

Input: ``{"messages": [{"role": "user", "content": "What is (2 + 3) * 4?"}]}``.
The last message of the output is the answer: ``"The answer is 20."``.
"""

from __future__ import annotations

from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from showcase.chat_model import ScriptedChatModel
from showcase.tools import TOOLS

model = ScriptedChatModel().bind_tools(TOOLS)


async def call_model(state: MessagesState) -> MessagesState:
    """Ask the model for the next step: tool calls, or the final answer."""
    return {"messages": [await model.ainvoke(state["messages"])]}


def tool_error(error: Exception) -> str:
    """What the model reads when a tool fails (a division by zero, an unknown unit…)."""
    return f"{type(error).__name__}: {error}"


builder = StateGraph(MessagesState)
builder.add_node("agent", call_model)
builder.add_node("tools", ToolNode(TOOLS, handle_tool_errors=tool_error))
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition)  # → "tools" or END
builder.add_edge("tools", "agent")

graph = builder.compile()
