"""Translate LangGraph's ``astream`` output into Agent Server stream events.

Source: Agent Server API, "SSE wire format": event names per ``stream_mode``
(``messages-tuple`` → ``messages``; legacy ``messages`` → ``messages/metadata``,
``messages/partial``, ``messages/complete``), subgraph events named ``<mode>|<namespace>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import BaseMessageChunk
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel

NATIVE_MODES = {"values", "updates", "debug", "tasks", "checkpoints", "custom"}


class StreamTranslator:
    """Turns LangGraph ``astream`` chunks into Agent Server SSE events (name, data)."""

    def __init__(self, modes: list[str], subgraphs: bool) -> None:
        self.modes = set(modes)
        self.subgraphs = subgraphs
        self._seen_messages: dict[str, Any] = {}

    def langgraph_modes(self) -> list[str]:
        """Modes to request from LangGraph for the API modes asked."""
        wanted = {m for m in self.modes if m in NATIVE_MODES}
        if self.modes & {"messages", "messages-tuple"}:
            wanted.add("messages")
        wanted.add("values")  # drives the stream even when only other modes are asked
        return sorted(wanted)

    def translate(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        """SSE events for one chunk; empty when the chunk's mode was not asked."""
        suffix = "|" + "|".join(ns) if ns else ""
        out: list[tuple[str, Any]] = []
        if mode == "messages":
            message, meta = chunk
            if "messages-tuple" in self.modes:
                out.append(("messages" + suffix, (message, meta)))
            if "messages" in self.modes:
                out.extend((name + suffix, data) for name, data in self._legacy(message, meta))
        elif mode in self.modes:
            out.append((mode + suffix, chunk))
        return out

    def _legacy(self, message: Any, meta: Any) -> list[tuple[str, Any]]:
        msg_id = getattr(message, "id", None) or ""
        out: list[tuple[str, Any]] = []
        if msg_id not in self._seen_messages:
            out.append(("messages/metadata", {msg_id: {"metadata": meta}}))
            self._seen_messages[msg_id] = None
        if isinstance(message, BaseMessageChunk):
            acc = self._seen_messages[msg_id]
            acc = message if acc is None else acc + message
            self._seen_messages[msg_id] = acc
            out.append(("messages/partial", [acc]))
        else:
            out.append(("messages/complete", [message]))
        return out


async def stream_events(
    graph: Pregel, graph_input: Any, config: RunnableConfig, kwargs: dict[str, Any]
) -> AsyncIterator[tuple[str, Any]]:
    """Run ``graph`` and yield ``(event name, data)`` for the modes in ``kwargs["stream_mode"]``.

    ``kwargs`` is a run's stored kwargs (``stream_mode``, ``subgraphs``, ``context``,
    ``interrupt_before``/``interrupt_after``, ``durability``).
    """
    translator = StreamTranslator(kwargs["stream_mode"], kwargs["subgraphs"])
    stream = graph.astream(
        graph_input,
        config,
        context=kwargs.get("context") or None,
        stream_mode=translator.langgraph_modes(),  # type: ignore[arg-type]
        subgraphs=True,
        interrupt_before=kwargs.get("interrupt_before"),
        interrupt_after=kwargs.get("interrupt_after"),
        durability=kwargs.get("durability") or "async",
    )
    async for ns, mode, chunk in stream:
        if ns and not translator.subgraphs:
            continue
        for event in translator.translate(tuple(ns), str(mode), chunk):
            yield event
