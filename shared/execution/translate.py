"""Translate LangGraph's stream output into Agent Server stream events.

Source: Agent Server API, "SSE wire format": event names per ``stream_mode``
(``messages-tuple`` → ``messages``; legacy ``messages`` → ``messages/metadata``,
``messages/partial``, ``messages/complete``; ``events`` → LangChain ``astream_events`` v2
records), subgraph events named ``<mode>|<namespace>``. ``feedback_keys`` (a LangSmith
feature) is accepted on runs but sends no ``feedback`` event. As the official server does,
``values`` and ``updates`` carry only the graph's output channels (its ``output_schema``), and
``debug`` checkpoint events carry ``checkpoint``/``parent_checkpoint`` beside their configs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.schema import StreamEvent
from langgraph.constants import TAG_HIDDEN
from langgraph.pregel import Pregel

NATIVE_MODES = {"values", "updates", "debug", "tasks", "checkpoints", "custom"}
"""API stream modes that are LangGraph stream modes of the same name."""


def checkpoint_to_api(config: RunnableConfig | None) -> dict[str, Any] | None:
    """The API's Checkpoint ``{checkpoint_id, thread_id, checkpoint_ns[, checkpoint_map]}``
    of a checkpoint config; ``None`` without a thread id and a checkpoint id.

    Source: the official server's ThreadState ``checkpoint``/``parent_checkpoint`` and its
    ``debug`` checkpoint events (``checkpoint_ns`` and ``checkpoint_map`` only when set).
    """
    conf = (config or {}).get("configurable") or {}
    if not conf.get("thread_id") or not conf.get("checkpoint_id"):
        return None
    checkpoint = {"checkpoint_id": conf["checkpoint_id"], "thread_id": conf["thread_id"]}
    if "checkpoint_ns" in conf:
        checkpoint["checkpoint_ns"] = conf["checkpoint_ns"] or ""
    if "checkpoint_map" in conf:
        checkpoint["checkpoint_map"] = conf["checkpoint_map"]
    return checkpoint


def _debug_checkpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``debug`` checkpoint payload as the official server sends it: plus ``checkpoint`` and
    ``parent_checkpoint`` (of ``config``/``parent_config``), and each task whose ``state`` is
    a subgraph's config with that config's ``configurable`` as ``checkpoint`` instead."""
    tasks = []
    for task in payload.get("tasks") or ():
        state = task.get("state")
        if isinstance(state, dict) and state.get("configurable"):
            task = {k: v for k, v in task.items() if k != "state"}
            task["checkpoint"] = state["configurable"]
        tasks.append(task)
    return {
        **payload,
        "checkpoint": checkpoint_to_api(payload.get("config")),
        "parent_checkpoint": checkpoint_to_api(payload.get("parent_config")),
        "tasks": tasks,
    }


def returns_whole_state(graph: Pregel) -> bool:
    """Whether the graph's output (its ``values`` stream and run result) is its whole state,
    i.e. it declares no ``output_schema`` narrower than its state."""
    return graph.output_channels == graph.stream_channels_asis


def output_of(graph: Pregel, values: Any) -> Any:
    """The graph's output channels among a state's ``values`` (all of them for a graph without
    an ``output_schema``), in the order LangGraph streams them."""
    keys = graph.output_channels
    if returns_whole_state(graph) or not isinstance(values, dict):
        return values
    if isinstance(keys, str):
        return values.get(keys)
    return {k: values[k] for k in keys if k in values}


class StreamTranslator:
    """Turns LangGraph stream output into Agent Server SSE events ``(name, data)``.

    ``modes`` are the run's API stream modes; ``subgraphs`` (the run's ``stream_subgraphs``)
    is what the graph is streamed with: with it, events from inside subgraphs come too, named
    ``<mode>|<ns>`` (legacy ``messages`` events keep their names, as officially); without it,
    LangGraph's ``messages`` mode still reports the messages subgraphs produce, as the root
    graph's node that ran the subgraph (its ``langgraph_node``), as the official server sends
    them. One translator serves one run: it keeps the legacy ``messages``
    accumulation and the root run id of ``events`` mode, and watches the stream for what the
    run's end needs: the root graph's last ``values`` chunk (its output channels only) and
    whether an interrupt was seen.
    """

    def __init__(self, modes: list[str], subgraphs: bool) -> None:
        self.modes = set(modes)
        self.subgraphs = subgraphs
        self._messages: dict[str, BaseMessage] = {}
        self._root_run: str | None = None
        self.final_values: Any = None
        self.saw_values = False
        self.saw_interrupt = False

    def final_state_known(self, kwargs: dict[str, Any], graph: Pregel) -> bool:
        """Whether the stream of a run of ``graph`` that ended normally fully describes its
        final state: ``final_values`` are the thread's values (the graph's output is its whole
        state) and nothing waits to run (no interrupt seen, none configured). Otherwise the
        checkpoint must be read."""
        static = kwargs.get("interrupt_before") or kwargs.get("interrupt_after")
        whole = returns_whole_state(graph)
        return whole and self.saw_values and not self.saw_interrupt and not static

    def langgraph_modes(self) -> list[str]:
        """Modes to request from LangGraph for the API modes asked."""
        wanted = {m for m in self.modes if m in NATIVE_MODES}
        if self.modes & {"messages", "messages-tuple"}:
            wanted.add("messages")
        wanted.add("values")  # drives the stream even when only other modes are asked
        return sorted(wanted)

    def translate_part(self, part: Any) -> list[tuple[str, Any]]:
        """SSE events for one part of ``astream(subgraphs=self.subgraphs)`` with several stream
        modes: ``(ns, mode, chunk)`` with subgraphs, ``(mode, chunk)`` without."""
        if self.subgraphs:
            ns, mode, chunk = part
            return self.translate(tuple(ns), str(mode), chunk)
        mode, chunk = part
        return self.translate((), str(mode), chunk)

    def translate(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        """SSE events for one chunk of ``astream(subgraphs=self.subgraphs)`` (``ns`` is empty
        without subgraphs); empty when not asked for."""
        if isinstance(chunk, dict) and "__interrupt__" in chunk:
            self.saw_interrupt = True
        elif mode == "values" and not ns:
            self.final_values, self.saw_values = chunk, True
        suffix = "|" + "|".join(ns) if ns else ""
        out: list[tuple[str, Any]] = []
        if mode == "messages":
            message, meta = chunk
            if "messages-tuple" in self.modes:  # it wins over legacy ``messages`` if both
                out.append(("messages" + suffix, (message, meta)))
            else:
                out.extend(self._legacy(message, meta))
        elif mode == "debug" and mode in self.modes and chunk.get("type") == "checkpoint":
            out.append((mode + suffix, {**chunk, "payload": _debug_checkpoint(chunk["payload"])}))
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
            return self.translate_part(event["data"]["chunk"])
        if TAG_HIDDEN in (event.get("tags") or ()):
            return []
        return [("events", event)]

    def _legacy(self, message: BaseMessage, meta: Any) -> list[tuple[str, Any]]:
        """Legacy ``messages`` mode, as the official server sends it: ``messages/metadata`` for
        a message id seen first, then the message so far (the chunks of one id added up) as a
        whole message (type ``ai``, not ``AIMessageChunk``): ``messages/partial`` after a
        chunk, ``messages/complete`` for a whole message."""
        msg_id = message.id or ""
        out: list[tuple[str, Any]] = []
        seen = self._messages.get(msg_id)
        if seen is None:
            out.append(("messages/metadata", {msg_id: {"metadata": meta}}))
        if isinstance(message, BaseMessageChunk):
            name = "messages/partial"
            if isinstance(seen, BaseMessageChunk):
                message = seen + message
        else:
            name = "messages/complete"
        self._messages[msg_id] = message
        out.append((name, [message_chunk_to_message(message)]))
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
    the graph gets (``shared/graphs/context.py``). The root graph streams only its output
    channels (``output_keys``), as the official server asks. With ``events`` among the modes
    the graph is driven by ``astream_events(version="v2")``, which hands the stream options on
    to ``astream``; otherwise by ``astream``. The graph's own exceptions propagate.
    ``translator`` (made from the same kwargs) is left holding what the run's end needs.
    """
    options: dict[str, Any] = {
        "context": context,
        "stream_mode": translator.langgraph_modes(),
        "output_keys": graph.output_channels,
        "subgraphs": translator.subgraphs,
        "interrupt_before": kwargs.get("interrupt_before"),
        "interrupt_after": kwargs.get("interrupt_after"),
        "durability": kwargs.get("durability") or "async",
    }
    if "events" in translator.modes:
        async for event in graph.astream_events(graph_input, config, version="v2", **options):
            for out in translator.translate_event(event):
                yield out
        return
    async for part in graph.astream(graph_input, config, **options):
        for out in translator.translate_part(part):
            yield out
