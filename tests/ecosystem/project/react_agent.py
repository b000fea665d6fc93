"""A ReAct agent from ``langgraph.prebuilt.create_react_agent`` whose model, system prompt and
user come from a runtime context (a dataclass with defaults), as in the react-agent template."""

from __future__ import annotations

from dataclasses import dataclass

from langchain.chat_models import init_chat_model
from langchain_core.messages import AnyMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime, create_react_agent
from langgraph.prebuilt.chat_agent_executor import AgentState
from langgraph.runtime import Runtime, get_runtime


@dataclass
class Context:
    """Who the agent talks to and which model it uses."""

    model: str = "openai:stub-model"
    system_prompt: str = "You are a helpful assistant. You are talking to {user_name}."
    user_name: str = "guest"


@tool
def get_weather(city: str) -> str:
    """Get the current weather of a city."""
    return f"It is always sunny in {city}."


@tool
def whoami(runtime: ToolRuntime[Context]) -> str:
    """Tell the name of the user the agent is talking to."""
    return f"You are {runtime.context.user_name}."


TOOLS = [get_weather, whoami]


def select_model(state: AgentState, runtime: Runtime[Context]):
    """The model named in the context, with the tools bound."""
    return init_chat_model(runtime.context.model).bind_tools(TOOLS)


def prompt(state: AgentState) -> list[AnyMessage]:
    """The context's system prompt, then the conversation."""
    context = get_runtime(Context).context
    system = SystemMessage(context.system_prompt.format(user_name=context.user_name))
    return [system, *state["messages"]]


graph = create_react_agent(select_model, TOOLS, prompt=prompt, context_schema=Context)
