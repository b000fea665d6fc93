"""Translate LangGraph's stream output into Agent Server stream events.

Source: Agent Server API, "SSE wire format": event names per ``stream_mode``
(``messages-tuple`` → ``messages``; legacy ``messages`` → ``messages/metadata``,
``messages/partial``, ``messages/complete``; ``events`` → LangChain ``astream_events`` v2
records), subgraph events named ``<mode>|<namespace>``. ``feedback_keys`` (a LangSmith
feature) is accepted on runs but sends no ``feedback`` event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import BaseMessageChunk
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.schema import StreamEvent
from langgraph.constants import TAG_HIDDEN
from langgraph.pregel import Pregel

NATIVE_MODES = {"values", "updates", "debug", "tasks", "checkpoints", "custom"}
"""API stream modes that are LangGraph stream modes of the same name."""


class StreamTranslator:
    """Turns LangGraph stream output into Agent Server SSE events ``(name, data)``.

    ``modes`` are the run's API stream modes; ``subgraphs`` keeps events from subgraphs
    (named ``<mode>|<ns>``). One translator serves one run: it keeps the legacy ``messages``
    accumulation and the root run id of ``events`` mode, and watches the stream for what the
    run's end needs: the root graph's last ``values`` chunk and whether an interrupt was seen.
    """

    def __init__(self, modes: list[str], subgraphs: bool) -> None:
        self.modes = set(modes)
        self.subgraphs = subgraphs
        self._seen_messages: dict[str, Any] = {}
        self._root_run: str | None = None
        self.final_values: Any = None
        self.saw_values = False
        self.saw_interrupt = False

    def final_state_known(self, kwargs: dict[str, Any]) -> bool:
        """Whether the stream of a run that ended normally fully describes its final state:
        ``final_values`` are the thread's values and nothing waits to run (no interrupt seen,
        none configured). Otherwise the checkpoint must be read."""
        static = kwargs.get("interrupt_before") or kwargs.get("interrupt_after")
        return self.saw_values and not self.saw_interrupt and not static

    def langgraph_modes(self) -> list[str]:
        """Modes to request from LangGraph for the API modes asked."""
        wanted = {m for m in self.modes if m in NATIVE_MODES}
        if self.modes & {"messages", "messages-tuple"}:
            wanted.add("messages")
        wanted.add("values")  # drives the stream even when only other modes are asked
        return sorted(wanted)

    def translate(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        """SSE events for one ``astream(subgraphs=True)`` chunk; empty when not asked for."""
        if isinstance(chunk, dict) and "__interrupt__" in chunk:
            self.saw_interrupt = True
        elif mode == "values" and not ns:
            self.final_values, self.saw_values = chunk, True
        if ns and not self.subgraphs:
            return []
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

    def translate_event(self, event: StreamEvent) -> list[tuple[str, Any]]:
        """SSE events for one ``astream_events`` v2 record.

        The first record is the root graph's ``on_chain_start``; the root's ``on_chain_stream``
        records carry the ``(ns, mode, chunk)`` of the other stream modes and are translated
        with :meth:`translate`. Every other record not tagged hidden is an ``events`` event.
        """
        if self._root_run is None:
            self._root_run = event["run_id"]
        if event["event"] == "on_chain_stream" and event["run_id"] == self._root_run:
            ns, mode, chunk = event["data"]["chunk"]
            return self.translate(tuple(ns), str(mode), chunk)
        if TAG_HIDDEN in (event.get("tags") or ()):
            return []
        return [("events", event)]

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
    graph: Pregel,
    graph_input: Any,
    config: RunnableConfig,
    kwargs: dict[str, Any],
    translator: StreamTranslator,
    *,
    context: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[str, Any]]:
    """Run ``graph`` and yield ``(event name, data)`` for the modes in ``kwargs["stream_mode"]``.

    ``kwargs`` is a run's stored kwargs (``stream_mode``, ``subgraphs``,
    ``interrupt_before``/``interrupt_after``, ``durability``); ``context`` is the run context
    the graph gets (``shared/graphs/context.py``). With ``events`` among the modes the graph
    is driven by ``astream_events(version="v2")``, which hands the stream options on
    to ``astream``; otherwise by ``astream``. The graph's own exceptions propagate.
    ``translator`` (made from the same kwargs) is left holding what the run's end needs.
    """
    options: dict[str, Any] = {
        "context": context,
        "stream_mode": translator.langgraph_modes(),
        "subgraphs": True,
        "interrupt_before": kwargs.get("interrupt_before"),
        "interrupt_after": kwargs.get("interrupt_after"),
        "durability": kwargs.get("durability") or "async",
    }
    if "events" in translator.modes:
        async for event in graph.astream_events(graph_input, config, version="v2", **options):
            for out in translator.translate_event(event):
                yield out
        return
    async for ns, mode, chunk in graph.astream(graph_input, config, **options):
        for out in translator.translate(tuple(ns), str(mode), chunk):
            yield out
