"""A span per graph node, tool call and model call, from LangChain callbacks.

:class:`GraphSpans` is added to a run attempt's ``config["callbacks"]`` while tracing is on.
LangGraph reports each node of each superstep as a chain run named after the node, with
``metadata.langgraph_node`` and ``metadata.langgraph_step``; tools and chat models report their
own runs. Spans:

- a node: name = the node's name, attributes ``langgraph.node``, ``langgraph.step`` (int),
  ``langgraph.checkpoint_ns`` (a subgraph's namespace, when not the root graph);
- a tool call: ``execute_tool <tool>`` with ``gen_ai.operation.name=execute_tool`` and
  ``gen_ai.tool.name`` (OTel GenAI semantic conventions);
- a model call: ``chat <model>`` with ``gen_ai.operation.name=chat``,
  ``gen_ai.request.model``, ``gen_ai.provider.name`` (when LangChain names it) and
  ``gen_ai.usage.input_tokens`` / ``gen_ai.usage.output_tokens`` (when the model reports them).

Each span's parent is the span of its nearest enclosing run that has one (a tool call under
the ``tools`` node, a model call under ``agent``), else the attempt's span. A run that raises
ends its span with status ERROR and the exception recorded. Inputs and outputs are recorded
only with ``content`` (setting ``LG_DEPLOY_TRACE_CONTENT``): ``langgraph.node.input`` /
``langgraph.node.output``, ``gen_ai.tool.call.arguments`` / ``gen_ai.tool.call.result``,
``gen_ai.input.messages`` / ``gen_ai.output.messages``, as JSON cut at
:data:`CONTENT_LIMIT` characters.

Source: LangChain callbacks (``langchain_core.callbacks.BaseCallbackHandler``), LangGraph's
task metadata; OpenTelemetry semantic conventions for GenAI spans.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from shared.tracing.spans import tracer

CONTENT_LIMIT = 8192
"""Longest recorded input or output, in characters (with ``content`` on)."""


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)[:CONTENT_LIMIT]


class GraphSpans(BaseCallbackHandler):
    """Callback handler making the spans the module docstring lists, under ``parent`` (the
    attempt span's context). Called inline (``run_inline``): it only starts and ends spans."""

    run_inline = True

    def __init__(self, parent: Context, *, content: bool = False) -> None:
        self._parent = parent
        self._content = content
        # sync nodes report from worker threads: each access is one dict operation, atomic
        self._spans: dict[uuid.UUID, Span] = {}
        self._parents: dict[uuid.UUID, uuid.UUID | None] = {}

    def _context_of(self, parent_run_id: uuid.UUID | None) -> Context:
        """The context of the nearest enclosing run with a span, else the attempt's."""
        while parent_run_id is not None:
            span = self._spans.get(parent_run_id)
            if span is not None:
                return trace.set_span_in_context(span, self._parent)
            parent_run_id = self._parents.get(parent_run_id)
        return self._parent

    def _start(
        self,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        name: str,
        attributes: dict[str, Any],
    ) -> Span:
        span = tracer().start_span(
            name, context=self._context_of(parent_run_id), attributes=attributes
        )
        self._parents[run_id] = parent_run_id
        self._spans[run_id] = span
        return span

    def _end(self, run_id: uuid.UUID, error: BaseException | None = None) -> Span | None:
        self._parents.pop(run_id, None)
        span = self._spans.pop(run_id, None)
        if span is not None and error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        return span

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A node's run starts a span; any other chain is only remembered as a parent."""
        metadata = metadata or {}
        node = metadata.get("langgraph_node")
        if node is None or kwargs.get("name") != node:
            self._parents[run_id] = parent_run_id
            return
        attributes: dict[str, Any] = {"langgraph.node": node}
        if isinstance(metadata.get("langgraph_step"), int):
            attributes["langgraph.step"] = metadata["langgraph_step"]
        namespace = str(metadata.get("checkpoint_ns") or "")
        if "|" in namespace:  # a subgraph's node ("parent:task|node:task")
            attributes["langgraph.checkpoint_ns"] = namespace.rpartition("|")[0]
        if self._content:
            attributes["langgraph.node.input"] = _json(inputs)
        self._start(run_id, parent_run_id, str(node), attributes)

    def on_chain_end(self, outputs: Any, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the node's span (with its output when ``content``)."""
        span = self._end(run_id)
        if span is not None:
            if self._content:
                span.set_attribute("langgraph.node.output", _json(outputs))
            span.end()

    def on_chain_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the node's span as an error. A ``GraphInterrupt`` or a cancel is an error too:
        the node did not complete."""
        span = self._end(run_id, error)
        if span is not None:
            span.end()

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Start an ``execute_tool`` span."""
        name = str(kwargs.get("name") or (serialized or {}).get("name") or "tool")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
        }
        if self._content:
            attributes["gen_ai.tool.call.arguments"] = input_str[:CONTENT_LIMIT]
        self._start(run_id, parent_run_id, f"execute_tool {name}", attributes)

    def on_tool_end(self, output: Any, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the tool's span (with its result when ``content``)."""
        span = self._end(run_id)
        if span is not None:
            if self._content:
                span.set_attribute("gen_ai.tool.call.result", _json(output))
            span.end()

    def on_tool_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the tool's span as an error."""
        span = self._end(run_id, error)
        if span is not None:
            span.end()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a ``chat`` span."""
        self._model_start(run_id, parent_run_id, metadata, kwargs, messages)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a span for a (non-chat) model call, as for a chat model."""
        self._model_start(run_id, parent_run_id, metadata, kwargs, prompts)

    def _model_start(
        self,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
        prompt: Any,
    ) -> None:
        params = kwargs.get("invocation_params") or {}
        metadata = metadata or {}
        model = params.get("model") or params.get("model_name") or metadata.get("ls_model_name")
        attributes: dict[str, Any] = {"gen_ai.operation.name": "chat"}
        if model:
            attributes["gen_ai.request.model"] = str(model)
        if metadata.get("ls_provider"):
            attributes["gen_ai.provider.name"] = str(metadata["ls_provider"])
        if self._content:
            attributes["gen_ai.input.messages"] = _json(prompt)
        name = f"chat {model}" if model else "chat"
        self._start(run_id, parent_run_id, name, attributes)

    def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the model call's span with its token usage, when reported."""
        span = self._end(run_id)
        if span is None:
            return
        for generation in (g for batch in response.generations for g in batch):
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                span.set_attribute("gen_ai.usage.input_tokens", usage.get("input_tokens", 0))
                span.set_attribute("gen_ai.usage.output_tokens", usage.get("output_tokens", 0))
            if self._content:
                span.set_attribute("gen_ai.output.messages", _json(generation))
            break
        span.end()

    def on_llm_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        """End the model call's span as an error."""
        span = self._end(run_id, error)
        if span is not None:
            span.end()
