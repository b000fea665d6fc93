"""Stream translation: real LangGraph graphs run in-process through ``stream_events``."""

from __future__ import annotations

import itertools
import operator
import uuid
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_stream_writer
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import interrupt

from shared.execution.translate import StreamTranslator, stream_events


class Items(TypedDict, total=False):
    items: Annotated[list[Any], operator.add]


def _graph(state: type, *nodes: tuple[str, Any], checkpointer: Any = None) -> Any:
    g = StateGraph(state)
    previous = START
    for name, fn in nodes:
        g.add_node(name, fn)
        g.add_edge(previous, name)
        previous = name
    return g.compile(checkpointer=checkpointer)


def _shout(state: Items) -> Items:
    get_stream_writer()({"shout": True})
    return {"items": ["shout"]}


def _reply(state: MessagesState) -> dict[str, Any]:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="a b")]))
    return {"messages": [model.invoke(state["messages"])]}


def _fixed_reply(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(content="done", id="fixed")]}


def _ask(state: Items) -> Items:
    return {"items": [interrupt("ok?")]}


child = _graph(Items, ("inner", _shout))
parent = _graph(
    Items, ("child", child), ("after", lambda s: {"items": ["after"]}), checkpointer=InMemorySaver()
)
chat = _graph(MessagesState, ("model", _reply), checkpointer=InMemorySaver())


async def _run(
    graph: Any, graph_input: Any, modes: list[str], subgraphs: bool = False
) -> list[tuple[str, Any]]:
    config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())}, run_id=uuid.uuid4())
    kwargs = {"stream_mode": modes, "subgraphs": subgraphs}
    translator = StreamTranslator(modes, subgraphs)
    return [event async for event in stream_events(graph, graph_input, config, kwargs, translator)]


async def test_only_requested_modes_are_sent() -> None:
    events = await _run(parent, {"items": []}, ["updates"])
    assert [name for name, _ in events] == ["updates", "updates"]
    assert events[0][1] == {"child": {"items": ["shout"]}}


async def test_subgraph_events_carry_their_namespace_only_when_asked() -> None:
    flat = await _run(parent, {"items": []}, ["custom", "updates"])
    nested = await _run(parent, {"items": []}, ["custom", "updates"], subgraphs=True)
    assert all("|" not in name for name, _ in flat)
    inner = [name for name, _ in nested if "|" in name]
    assert [name.split("|")[0] for name in inner] == ["custom", "updates"]
    assert all(name.split("|")[1].startswith("child:") for name in inner)


async def test_messages_tuple_is_chunk_and_metadata() -> None:
    events = await _run(chat, {"messages": [("user", "hi")]}, ["messages-tuple"])
    assert {name for name, _ in events} == {"messages"}
    chunks = [data[0] for _, data in events]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(c.content for c in chunks) == "a b"
    assert events[0][1][1]["langgraph_node"] == "model"


async def test_legacy_messages_send_metadata_once_then_accumulated_partials() -> None:
    events = await _run(chat, {"messages": [("user", "hi")]}, ["messages"])
    names = [name for name, _ in events]
    assert names[0] == "messages/metadata"
    assert names[1:] == ["messages/partial"] * (len(names) - 1)
    (msg_id, meta), *_ = events[0][1].items()
    assert meta["metadata"]["langgraph_node"] == "model"
    assert {type(data[0]) for _, data in events[1:]} == {AIMessage}  # whole messages so far
    partials = [data[0].content for _, data in events[1:]]
    assert partials[-1] == "a b"
    assert all(b.startswith(a) for a, b in itertools.pairwise(partials))
    assert {data[0].id for _, data in events[1:]} == {msg_id}


async def test_legacy_messages_complete_for_whole_messages() -> None:
    graph = _graph(MessagesState, ("fixed", _fixed_reply), checkpointer=InMemorySaver())
    events = await _run(graph, {"messages": [("user", "hi")]}, ["messages"])
    assert [name for name, _ in events] == ["messages/metadata", "messages/complete"]
    assert events[0][1] == {"fixed": {"metadata": events[0][1]["fixed"]["metadata"]}}
    assert events[1][1][0].content == "done"


async def test_events_mode_sends_astream_events_and_keeps_other_modes() -> None:
    events = await _run(chat, {"messages": [("user", "hi")]}, ["events", "values"])
    records = [data for name, data in events if name == "events"]
    assert records[0]["event"] == "on_chain_start"
    assert records[-1]["event"] == "on_chain_end"
    kinds = {r["event"] for r in records}
    assert "on_chat_model_stream" in kinds
    root = records[0]["run_id"]
    assert not [r for r in records if r["event"] == "on_chain_stream" and r["run_id"] == root]
    values = [data for name, data in events if name == "values"]
    assert len(values) == 2
    assert values[-1]["messages"][-1].content == "a b"
    assert {name for name, _ in events} == {"events", "values"}


async def test_events_mode_keeps_subgraph_events_only_when_asked() -> None:
    flat = await _run(parent, {"items": []}, ["events", "custom"])
    nested = await _run(parent, {"items": []}, ["events", "custom"], subgraphs=True)
    assert [name for name, _ in flat if name != "events"] == []
    inner = [name for name, _ in nested if name != "events"]
    assert len(inner) == 1 and inner[0].startswith("custom|child:")


async def test_interrupt_shows_in_last_values_and_in_updates() -> None:
    graph = _graph(Items, ("ask", _ask), checkpointer=InMemorySaver())
    events = await _run(graph, {"items": []}, ["values", "updates"])
    assert [name for name, _ in events] == ["values", "updates", "values"]
    (interrupt_,) = events[1][1]["__interrupt__"]
    assert interrupt_.value == "ok?"
    assert events[2][1]["__interrupt__"] == events[1][1]["__interrupt__"]


def test_translator_asks_langgraph_for_native_modes_plus_values() -> None:
    translator = StreamTranslator(["messages-tuple", "custom", "events"], subgraphs=False)
    assert translator.langgraph_modes() == ["custom", "messages", "values"]
    assert translator.translate((), "values", {"x": 1}) == []


async def test_translator_keeps_the_final_values_of_a_run_that_ends() -> None:
    translator = StreamTranslator(["updates"], False)
    config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())})
    kwargs = {"stream_mode": ["updates"], "subgraphs": False}
    async for _ in stream_events(parent, {"items": ["in"]}, config, kwargs, translator):
        pass
    assert translator.final_state_known(kwargs, parent)
    assert translator.final_values == (await parent.aget_state(config)).values
    assert not translator.final_state_known({**kwargs, "interrupt_before": ["after"]}, parent)


async def test_translator_notices_an_interrupt_so_the_checkpoint_is_read() -> None:
    asking = _graph(Items, ("ask", _ask), checkpointer=InMemorySaver())
    translator = StreamTranslator(["values"], False)
    config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())})
    kwargs = {"stream_mode": ["values"], "subgraphs": False}
    async for _ in stream_events(asking, {"items": []}, config, kwargs, translator):
        pass
    assert translator.saw_interrupt and not translator.final_state_known(kwargs, asking)


async def test_translator_notices_an_interrupt_inside_a_subgraph_without_subgraphs() -> None:
    asking = _graph(Items, ("ask", _ask))
    nested = _graph(Items, ("child", asking), checkpointer=InMemorySaver())
    for modes in (["values"], ["updates"], ["messages-tuple"]):
        translator = StreamTranslator(modes, False)
        config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())})
        kwargs = {"stream_mode": modes, "subgraphs": False}
        async for _ in stream_events(nested, {"items": []}, config, kwargs, translator):
            pass
        assert translator.saw_interrupt and not translator.final_state_known(kwargs, nested)


async def test_messages_tuple_wins_over_legacy_messages_when_both_are_asked() -> None:
    events = await _run(chat, {"messages": [("user", "hi")]}, ["messages", "messages-tuple"])
    assert {name for name, _ in events} == {"messages"}


class Wide(TypedDict, total=False):
    topic: str
    info: str


class Narrow(TypedDict, total=False):
    info: str


def _narrowed() -> Any:
    g = StateGraph(Wide, output_schema=Narrow)
    g.add_node("note", lambda s: {"topic": "t"})
    g.add_node("sum", lambda s: {"info": "i"})
    g.add_edge(START, "note")
    g.add_edge("note", "sum")
    return g.compile(checkpointer=InMemorySaver())


async def test_values_and_updates_carry_only_the_output_schema_and_the_state_is_read() -> None:
    graph = _narrowed()
    translator = StreamTranslator(["values", "updates"], False)
    config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())})
    kwargs = {"stream_mode": ["values", "updates"], "subgraphs": False}
    events = [e async for e in stream_events(graph, {"topic": "x"}, config, kwargs, translator)]
    assert events == [
        ("updates", {"note": None}),
        ("updates", {"sum": {"info": "i"}}),
        ("values", {"info": "i"}),
    ]
    assert not translator.final_state_known(kwargs, graph)  # final values are not the state


async def test_debug_checkpoints_name_their_checkpoint() -> None:
    events = await _run(parent, {"items": []}, ["debug"])
    payloads = [data["payload"] for _, data in events if data["type"] == "checkpoint"]
    assert payloads[0]["parent_checkpoint"] is None
    for before, after in itertools.pairwise(payloads):
        conf = before["config"]["configurable"]
        assert (
            after["parent_checkpoint"]
            == before["checkpoint"]
            == {
                "checkpoint_id": conf["checkpoint_id"],
                "thread_id": conf["thread_id"],
                "checkpoint_ns": "",
            }
        )
