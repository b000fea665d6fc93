"""Graphs the test suite runs: each proves one behaviour of the runtime.

Side effects that tests count (node executions) go to a ledger file named by
``config["configurable"]["ledger"]``: one line per node execution.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from pathlib import Path
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from langgraph.types import interrupt
from typing_extensions import TypedDict  # pydantic describes it on Python 3.11


class Items(TypedDict, total=False):
    items: Annotated[list[Any], operator.add]


def _ledger(config: RunnableConfig, line: str) -> None:
    path = (config.get("configurable") or {}).get("ledger")
    if path:
        with Path(path).open("a") as f:
            f.write(line + "\n")


def _single(name: str, fn: Any, state: type = Items) -> Any:
    g = StateGraph(state)
    g.add_node(name, fn)
    g.add_edge(START, name)
    g.add_edge(name, END)
    return g.compile()


def _one(state: Items) -> Items:
    get_stream_writer()({"hello": "world"})
    return {"items": ["one"]}


echo = _single("one", _one)


def _ask(state: Items) -> Items:
    answer = interrupt({"question": "approve?"})
    return {"items": [answer]}


human = _single("ask", _ask)


async def _nap(state: Items, config: RunnableConfig) -> Items:
    """Sleeps ``configurable.sleep`` seconds (default 0.5) per step."""
    await asyncio.sleep(float((config.get("configurable") or {}).get("sleep", 0.5)))
    return {"items": ["nap"]}


def _chain(n: int, fn: Any) -> Any:
    g = StateGraph(Items)
    names = [f"step_{i}" for i in range(1, n + 1)]
    for name in names:
        g.add_node(name, fn(name))
    g.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], END)
    return g.compile()


slow = _chain(3, lambda _name: _nap)


async def _stubborn_nap(state: Items, config: RunnableConfig) -> Items:
    """Naps ``configurable.sleep`` seconds (default 30; ledger line ``napping`` first),
    swallowing the first ``configurable.swallow`` cancels (default 1) as CPython 3.11's
    ``asyncio.wait_for`` swallows one that comes as its future completes (gh-86296)."""
    _ledger(config, "napping")
    conf = config.get("configurable") or {}
    swallow = int(conf.get("swallow", 1))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(conf.get("sleep", 30.0))
    while (left := deadline - loop.time()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            if swallow == 0:
                raise
            swallow -= 1
    return {"items": ["stubborn"]}


stubborn = _single("nap", _stubborn_nap)


def _counted_step(name: str) -> Any:
    async def step(state: Items, config: RunnableConfig) -> Items:
        _ledger(config, name)
        await asyncio.sleep(float((config.get("configurable") or {}).get("sleep", 0.0)))
        return {"items": [name]}

    return step


steps = _chain(20, _counted_step)


async def _block(state: Items, config: RunnableConfig) -> Items:
    """Blocks the event loop (``time.sleep`` in an async node) for ``configurable.block``."""
    _ledger(config, "block")
    time.sleep(float((config.get("configurable") or {}).get("block", 1.0)))  # noqa: ASYNC251
    return {"items": ["blocked"]}


blocking = _single("block", _block)


def _boom(state: Items) -> Items:
    raise ValueError("boom")


fail = _single("boom", _boom)


def _child_node(state: Items) -> Items:
    get_stream_writer()({"from": "child"})
    return {"items": ["child"]}


child = _single("child_node", _child_node)
_parent = StateGraph(Items)
_parent.add_node("child", child)
_parent.add_node("after", lambda s: {"items": ["after"]})
_parent.add_edge(START, "child")
_parent.add_edge("child", "after")
_parent.add_edge("after", END)
parent = _parent.compile()


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _reply(state: Chat) -> Chat:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="hello there friend")]))
    return {"messages": [model.invoke(state["messages"])]}


chat = _single("model", _reply, MessagesState)
team = _single("agent", chat, MessagesState)  # a parent whose node is the ``chat`` graph


def _emit(state: Items, config: RunnableConfig) -> Items:
    writer = get_stream_writer()
    for i in range(int((config.get("configurable") or {}).get("count", 100))):
        writer({"i": i})
    return {"items": ["emitted"]}


emitter = _single("emit", _emit)
ten = _chain(10, lambda name: lambda state: {"items": [name]})


def make_graph(config: RunnableConfig) -> Any:
    """A factory: the graph's node writes the ``configurable.greeting`` it was built with."""
    greeting = (config.get("configurable") or {}).get("greeting", "hi")
    return _single("greet", lambda state: {"items": [greeting]})


def _flaky_node(state: Items, config: RunnableConfig) -> Items:
    """Raises ``ConnectionError`` until it has run ``configurable.fail_times`` times (counted
    in the ledger), then succeeds."""
    _ledger(config, "flaky")
    path = (config.get("configurable") or {}).get("ledger")
    runs = len(Path(path).read_text().splitlines()) if path else 1
    if runs <= int((config.get("configurable") or {}).get("fail_times", 0)):
        raise ConnectionError(f"transient failure {runs}")
    return {"items": ["recovered"]}


_flaky = StateGraph(Items)
_flaky.add_node("prepare", lambda state: {"items": ["prepared"]})
_flaky.add_node("flaky", _flaky_node)
_flaky.add_edge(START, "prepare")
_flaky.add_edge("prepare", "flaky")
_flaky.add_edge("flaky", END)
flaky = _flaky.compile()


class Memory(TypedDict, total=False):
    user: str
    facts: list[str]
    seed: Any


async def _remember(state: Memory, runtime: Runtime[Any]) -> Memory:
    """Puts each fact into the store at ("memories", user) through ``runtime.store`` and reads
    back the item "seed" (put there by a test through the API)."""
    assert runtime.store is not None
    namespace = ("memories", state["user"])
    for i, fact in enumerate(state.get("facts", [])):
        await runtime.store.aput(namespace, f"fact-{i}", {"text": fact})
    seed = await runtime.store.aget(namespace, "seed")
    return {"seed": seed.value if seed else None}


def _tally(state: Memory, *, store: BaseStore) -> Memory:
    """A sync node with the injected store: counts the facts in item "tally"."""
    store.put(("memories", state["user"]), "tally", {"count": len(state.get("facts", []))})
    return {}


_memory = StateGraph(Memory)
_memory.add_node("remember", _remember)
_memory.add_node("tally", _tally)
_memory.add_edge(START, "remember")
_memory.add_edge("remember", "tally")
_memory.add_edge("tally", END)
memory = _memory.compile()


async def _slow_reply(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
    """Sleeps ``configurable.sleep`` seconds (default 0.5), then answers as ``chat`` does."""
    await asyncio.sleep(float((config.get("configurable") or {}).get("sleep", 0.5)))
    return dict(_reply(state))


slow_chat = _single("model", _slow_reply, MessagesState)
