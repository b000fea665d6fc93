"""Graphs for the run context and the graph factory shapes the official Agent Server serves.

Context graphs report what their node received as ``runtime.context`` in ``seen``:
``react_like`` is written like the public ``react-agent`` template (a dataclass ``Context``
with defaults, read as ``runtime.context.model``), without the model call.

Factories report what they were called with: runs return it in ``built``; every call of the
async ones is also put in the store under ``("factory_calls", <marker>)`` (the marker is
``configurable.marker``, else ``configurable.thread_id``), so reads (schemas, drawings, state)
can be checked through ``/store``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime, get_runtime
from pydantic import BaseModel
from typing_extensions import TypedDict

if TYPE_CHECKING:  # resolved by name, as the official server does
    from langgraph_sdk.runtime import ServerRuntime


class Seen(TypedDict, total=False):
    seen: Any
    built: Any
    open: Any


@dataclass
class Context:
    """Like the react-agent template's ``Context``: every field has a default."""

    model: str = "anthropic/claude-sonnet-4-5-20250929"
    system_prompt: str = "You are a helpful AI assistant."


class PydanticContext(BaseModel):
    model: str = "pydantic-default"
    temperature: float = 0.5


class TypedContext(TypedDict, total=False):
    model: str
    user_id: str


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


async def _call_model(state: Seen, runtime: Runtime[Context]) -> Seen:
    """What the template's ``call_model`` reads, without calling a model."""
    return {
        "seen": {
            "model": runtime.context.model,
            "system_prompt": runtime.context.system_prompt,
            "type": type(runtime.context).__name__,
            "via_get_runtime": get_runtime(Context).context.model,
        }
    }


def _report(state: Seen, runtime: Runtime[Any]) -> Seen:
    return {"seen": {"type": type(runtime.context).__name__, "context": _plain(runtime.context)}}


def _single(node: Any, context_schema: Any = None, name: str | None = None) -> Any:
    g = StateGraph(Seen, context_schema=context_schema)
    g.add_node("node", node)
    g.add_edge(START, "node")
    g.add_edge("node", END)
    return g.compile(name=name) if name else g.compile()


react_like = _single(_call_model, Context, "ReAct Agent")
pydantic_context = _single(_report, PydanticContext)
typed_context = _single(_report, TypedContext)
no_context = _single(_report)


# --- factories ---------------------------------------------------------------------------


def _describe(shape: str, runtime: ServerRuntime | None, config: RunnableConfig | None) -> Any:
    info: dict[str, Any] = {"shape": shape, "config": config is not None}
    if runtime is not None:
        ert = runtime.execution_runtime
        info.update(
            access_context=runtime.access_context,
            runtime_type=type(runtime).__name__,
            user=None if runtime.user is None else type(runtime.user).__name__,
            store=runtime.store is not None,
            context=None if ert is None else _plain(ert.context),
        )
    return info


def _built(info: Any, resource: dict[str, bool] | None = None) -> Any:
    """A graph (context schema :class:`Context`) whose node returns ``info`` as ``built``
    (and whether ``resource`` is still open while it runs)."""

    def node(state: Seen, runtime: Runtime[Context]) -> Seen:
        out: Seen = {"built": info, "seen": {"model": runtime.context.model}}
        if resource is not None:
            out["open"] = resource["open"]
        return out

    return _single(node, Context)


def _marker() -> str | None:
    """Where a factory's calls are recorded: the marker of the config it is called in
    (``get_config()``: the server sets it while it calls a factory)."""
    configurable = get_config().get("configurable") or {}
    marker = configurable.get("marker") or configurable.get("thread_id")
    return None if marker is None else str(marker)


async def _put(runtime: ServerRuntime, marker: str | None, info: Any, event: str) -> None:
    if marker is not None:
        value = {**info, "event": event, "at": time.time_ns()}
        await runtime.store.aput(("factory_calls", marker), uuid.uuid4().hex, value)


def runtime_only(runtime: ServerRuntime) -> Any:
    """``factory(runtime)``, sync."""
    return _built(_describe("runtime_only", runtime, None))


async def config_and_runtime(config: RunnableConfig, runtime: ServerRuntime[Context]) -> Any:
    """``async factory(config, runtime)``; every call is recorded in the store."""
    info = _describe("config_and_runtime", runtime, config)
    await _put(runtime, _marker(), info, "call")
    return _built(info)


async def runtime_then_config(runtime: ServerRuntime, config: RunnableConfig) -> Any:
    """``async factory(runtime, config)``: the other order."""
    return _built(_describe("runtime_then_config", runtime, config))


@contextlib.asynccontextmanager
async def async_managed(runtime: ServerRuntime) -> AsyncIterator[Any]:
    """The SDK docstring's shape: an async context manager of ``runtime``, entered per use
    and exited after it (recorded as ``enter``/``exit``)."""
    info = _describe("async_managed", runtime, None)
    marker = _marker()
    await _put(runtime, marker, info, "enter")
    resource = {"open": True}
    try:
        yield _built(info, resource)
    finally:
        resource["open"] = False
        await _put(runtime, marker, info, "exit")


@contextlib.contextmanager
def sync_managed(config: RunnableConfig) -> Iterator[Any]:
    """A sync context manager of ``config``."""
    resource = {"open": True}
    try:
        yield _built(_describe("sync_managed", None, config), resource)
    finally:
        resource["open"] = False


def two_unknown(first: Any, second: Any) -> Any:
    """Two parameters, neither a ``ServerRuntime``: the official server refuses it."""
    return _built({})
