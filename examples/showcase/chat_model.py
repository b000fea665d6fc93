"""A deterministic stand-in for a real chat model, so the agent runs offline and free.

:class:`ScriptedChatModel` reads the conversation and answers the way a tool-calling model would:

- the last message is the user's question → it calls a tool (``convert_units`` for
  "convert 10 km to mi", ``calculator`` for "what is (2 + 3) * 4?"), or greets and explains
  what it can do when no tool fits;
- the last messages are tool results → it answers with them.

Its reply depends only on the messages, so any number of runs, concurrent or not, behave
the same. To use a real model, replace it in ``agent.py`` (e.g. ``ChatOpenAI(model=...)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

_CONVERSION = re.compile(
    r"convert\s+(-?\d+(?:\.\d+)?)\s*([a-z]+)\s+(?:to|in|into)\s+([a-z]+)", re.IGNORECASE
)
_ARITHMETIC = re.compile(r"[-(\d][\d\s.+\-*/%()]*[\d)]")


def _tool_call(messages: Sequence[BaseMessage], name: str, args: dict[str, Any]) -> AIMessage:
    call_id = f"call_{len(messages)}"  # unique within a thread, identical across runs
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def _plan(messages: Sequence[BaseMessage]) -> AIMessage:
    """The model's next message for ``messages``."""
    tool_results: list[ToolMessage] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        tool_results.insert(0, message)
    if tool_results:
        answers = "; ".join(str(m.content) for m in tool_results)
        if any(m.status == "error" for m in tool_results):
            return AIMessage(content=f"Sorry, that did not work: {answers}")
        return AIMessage(content=f"The answer is {answers}.")

    question = str(messages[-1].content) if messages else ""
    if match := _CONVERSION.search(question):
        value, from_unit, to_unit = match.groups()
        args = {"value": float(value), "from_unit": from_unit, "to_unit": to_unit}
        return _tool_call(messages, "convert_units", args)
    expression = max(_ARITHMETIC.findall(question), key=len, default="")
    if any(op in expression for op in "+-*/%"):
        return _tool_call(messages, "calculator", {"expression": expression.strip()})
    greeting = os.environ.get("EXAMPLE_GREETING", "Hello!")
    return AIMessage(
        content=f"{greeting} I can do arithmetic (ask 'What is (2 + 3) * 4?') "
        "and convert units (ask 'Convert 10 km to mi')."
    )


class ScriptedChatModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` whose replies are computed from the conversation."""

    messages: Iterator[AIMessage | str] = iter(())  # unused: replies come from :func:`_plan`

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools like a real model does; the script already knows them by name."""
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=_plan(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Text streams word by word (the parent class); a tool call comes in one chunk."""
        reply = _plan(messages)
        if not reply.tool_calls:
            yield from super()._stream(messages, stop, run_manager, **kwargs)
            return
        chunk = AIMessageChunk(content="", tool_calls=reply.tool_calls, chunk_position="last")
        yield ChatGenerationChunk(message=chunk)
