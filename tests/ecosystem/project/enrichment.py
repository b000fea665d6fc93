"""Research a topic with web search, then fill an extraction schema given with the input; only
``info`` is returned (an output schema, as in data-enrichment agents)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain.chat_models import init_chat_model
from langchain_core.messages import AnyMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from typing_extensions import TypedDict


class InputState(TypedDict):
    """What the caller gives: a topic and the JSON schema of what to find out."""

    topic: str
    extraction_schema: dict[str, Any]


class State(InputState, total=False):
    """The research in progress."""

    messages: Annotated[list[AnyMessage], add_messages]
    loop_step: int
    info: dict[str, Any]


class OutputState(TypedDict):
    """What the caller gets back."""

    info: dict[str, Any]


@tool
def search(query: str) -> str:
    """Search the web."""
    return f"Search results for {query!r}: LangChain was founded in 2022 by Harrison Chase."


model = init_chat_model("openai:stub-model")


async def research(state: State) -> dict:
    """One step of research with the search tool."""
    messages = state.get("messages") or [HumanMessage(f"Research this topic:\n{state['topic']}")]
    response = await model.bind_tools([search]).ainvoke(messages)
    new = [] if state.get("messages") else messages
    return {"messages": [*new, response], "loop_step": state.get("loop_step", 0) + 1}


def route(state: State) -> Literal["tools", "extract"]:
    """Search while the model asks for it."""
    return "tools" if state["messages"][-1].tool_calls else "extract"


async def extract(state: State) -> dict:
    """Fill the extraction schema from the research."""
    info_tool = {
        "name": "Info",
        "description": "Call this with the information found about the topic.",
        "parameters": state["extraction_schema"],
    }
    response = await model.bind_tools([info_tool], tool_choice="Info").ainvoke(state["messages"])
    return {"info": response.tool_calls[0]["args"]}


builder = StateGraph(State, input_schema=InputState, output_schema=OutputState)
builder.add_node(research)
builder.add_node("tools", ToolNode([search]))
builder.add_node(extract)
builder.add_edge(START, "research")
builder.add_conditional_edges("research", route)
builder.add_edge("tools", "research")
builder.add_edge("extract", END)
graph = builder.compile(name="ResearchTopic")
