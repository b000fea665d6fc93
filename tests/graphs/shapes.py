"""Graphs whose answers the official server shapes in a particular way (tests/api/
test_official_shapes.py compares lg-deploy's answers with those shapes).

- ``enrich``: input and output schemas narrower than the state, as the data-enrichment template
  declares (only ``info`` goes out); a topic starting with "ask" pauses at an interrupt.
- ``named``: a graph compiled with ``name="MemoryAgent"`` (its system assistant's name).
- ``configured``: a graph with a context schema (what ``config_schema`` describes).
- ``typed_ask``: an interrupt with a ``response_schema``.
- ``order``: reports the key order of its input, context and resume value; asked to, pauses at
  an interrupt whose value's keys are not in sorted order.
- ``chat_ask``: a chat graph that says it needs approval, pauses at an interrupt (with a
  ``response_schema`` when the first message says "typed"), then answers with the resume
  value.
- ``fan``: keeps its plan of ``Send`` objects in its state and fans out by it.
- ``talk``: a node that returns a whole AI message, then a model that streams its answer.
- ``scratch``: a state with a private channel (``_scratch``), as deepagents' middleware keeps.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt
from typing_extensions import TypedDict  # pydantic describes it on Python 3.11


def _chain(state: type, *nodes: tuple[str, Any], **options: Any) -> Any:
    """A ``StateGraph`` running ``nodes`` (name, function) one after the other."""
    g = StateGraph(state, **options)
    previous = START
    for name, fn in nodes:
        g.add_node(name, fn)
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g


class EnrichState(TypedDict, total=False):
    topic: str
    notes: Annotated[list[str], operator.add]
    info: dict[str, Any]


class EnrichInput(TypedDict):
    topic: str


class EnrichOutput(TypedDict, total=False):
    info: dict[str, Any]


def _research(state: EnrichState) -> EnrichState:
    return {"notes": [f"about {state['topic']}"]}


def _summarize(state: EnrichState) -> EnrichState:
    if state["topic"].startswith("ask"):
        interrupt({"question": "publish?"})
    return {"info": {"topic": state["topic"], "notes": len(state.get("notes", []))}}


enrich = _chain(
    EnrichState,
    ("research", _research),
    ("summarize", _summarize),
    input_schema=EnrichInput,
    output_schema=EnrichOutput,
).compile()


class Items(TypedDict, total=False):
    items: Annotated[list[Any], operator.add]


named = _chain(Items, ("remember", lambda state: {"items": ["remembered"]})).compile(
    name="MemoryAgent"
)


class Settings(TypedDict, total=False):
    model: str
    temperature: float


configured = _chain(
    Items, ("reply", lambda state: {"items": ["configured"]}), context_schema=Settings
).compile()


class Decision(TypedDict):
    approved: bool
    note: str


def _typed_ask(state: Items) -> Items:
    answer = interrupt({"question": "approve?"}, response_schema=Decision)
    return {"items": [answer]}


typed_ask = _chain(Items, ("ask", _typed_ask)).compile()


class Order(TypedDict, total=False):
    payload: dict[str, Any]
    ask: bool
    seen: dict[str, list[str]]


def _look(state: Order, runtime: Runtime[Any]) -> Order:
    seen = {"payload": list(state.get("payload") or {}), "context": list(runtime.context or {})}
    if state.get("ask"):
        seen["resume"] = list(interrupt({"question": "order?", "about": seen["payload"]}))
    return {"seen": seen}


order = _chain(Order, ("look", _look)).compile()


def _note(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage("noted", id="note-1")]}


def _answer(state: MessagesState) -> dict[str, Any]:
    model = GenericFakeChatModel(messages=iter([AIMessage("hello there friend")]))
    return {"messages": [model.invoke(state["messages"])]}


talk = _chain(MessagesState, ("note", _note), ("answer", _answer)).compile()


class Fan(TypedDict, total=False):
    topics: list[str]
    plan: list[Send]
    done: Annotated[list[str], operator.add]


def _plan(state: Fan) -> Fan:
    return {"plan": [Send("work", {"topic": t}) for t in state["topics"]]}


def _work(arg: dict[str, str]) -> Fan:
    return {"done": [arg["topic"]]}


_fan = StateGraph(Fan)
_fan.add_node("plan", _plan)
_fan.add_node("work", _work)
_fan.add_edge(START, "plan")
_fan.add_conditional_edges("plan", lambda state: state["plan"], ["work"])
fan = _fan.compile()


def _before_asking(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage("I need your approval first.")]}


def _ask_approval(state: MessagesState) -> dict[str, Any]:
    typed = "typed" in str(state["messages"][0].content)
    answer = interrupt({"question": "approve?"}, response_schema=Decision if typed else None)
    return {"messages": [AIMessage(f"You answered {answer}.")]}


chat_ask = _chain(MessagesState, ("explain", _before_asking), ("ask", _ask_approval)).compile()


class Scratch(TypedDict, total=False):
    answer: str
    _scratch: list[str]


scratch = _chain(Scratch, ("work", lambda state: {"_scratch": ["x"], "answer": "done"})).compile()
