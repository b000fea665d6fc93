"""The context a run's graph gets (:func:`shared.graphs.context.graph_context`): only the keys
its context schema declares, as the official Agent Server filters them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from shared.graphs.context import graph_context


class State(TypedDict, total=False):
    x: int


@dataclass
class DataContext:
    model: str = "d"


class ModelContext(BaseModel):
    model: str = "p"
    top_k: int = Field(3, alias="topK")


class DictContext(TypedDict, total=False):
    model: str


class Opaque:
    """Not a type pydantic can describe."""


def _graph(schema: Any) -> Any:
    g = StateGraph(State, context_schema=schema)
    g.add_node("n", lambda s: s)
    g.add_edge(START, "n")
    return g.compile()


GIVEN = {"model": "m", "topK": 5, "extra": 1}


@pytest.mark.parametrize(
    ("schema", "kept"),
    [
        (DataContext, {"model": "m"}),
        (ModelContext, {"model": "m", "topK": 5}),  # pydantic aliases, as its JSON schema
        (DictContext, {"model": "m"}),
        (None, GIVEN),
        (Opaque, GIVEN),
    ],
    ids=["dataclass", "pydantic", "TypedDict", "no schema", "schema without JSON schema"],
)
def test_keys_the_schema_does_not_declare_are_dropped(schema: Any, kept: dict[str, Any]) -> None:
    assert graph_context(_graph(schema), GIVEN) == kept


def test_no_context_is_an_empty_dict() -> None:
    assert graph_context(_graph(DataContext), None) == {}


def test_the_mirror_loses_dropped_keys_holding_the_same_value() -> None:
    mirror = {"model": "m", "extra": 1, "thread_id": "t"}
    graph_context(_graph(DataContext), {"model": "m", "extra": 1}, mirror)
    assert mirror == {"model": "m", "thread_id": "t"}
    changed = {"extra": 2}
    graph_context(_graph(DataContext), {"extra": 1}, changed)
    assert changed == {"extra": 2}
