"""Assistants through the official SDK: create, get, update (versions), set latest, delete,
search, count, graph, schemas, subgraphs, and bad input that must change nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)

from shared.ids import system_assistant_id
from tests.support import TEST_GRAPHS

GRAPH_IDS = list(json.loads(TEST_GRAPHS.read_text())["graphs"])
MISSING = str(uuid.uuid4())


def tag() -> dict[str, str]:
    """Metadata that singles out one test's assistants."""
    return {"test": uuid.uuid4().hex}


OWN_NAMES = {"named": "MemoryAgent", "react_like": "ReAct Agent"}
"""Test graphs compiled with a name of their own (their system assistants carry it)."""


async def test_each_graph_has_a_system_assistant(client: LangGraphClient) -> None:
    found = await client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert sorted(a["graph_id"] for a in found) == sorted(GRAPH_IDS)
    for a in found:
        assert a["assistant_id"] == str(system_assistant_id(a["graph_id"]))
        own_name = OWN_NAMES.get(a["graph_id"], a["graph_id"])
        assert a["name"] == own_name and a["version"] == 1


async def test_create_applies_defaults_and_get_returns_it(client: LangGraphClient) -> None:
    created = await client.assistants.create("echo")
    assert uuid.UUID(created["assistant_id"]).version == 4
    assert created["graph_id"] == "echo" and created["name"] == "Untitled"
    assert created["version"] == 1 and created["description"] is None
    assert created["metadata"] == {} and created["config"] == {} and created["context"] == {}
    assert await client.assistants.get(created["assistant_id"]) == created


async def test_create_keeps_given_fields(client: LangGraphClient) -> None:
    assistant_id = str(uuid.uuid4())
    created = await client.assistants.create(
        "slow",
        config={"tags": ["t"], "recursion_limit": 7},
        metadata={"team": "a"},
        assistant_id=assistant_id,
        name="Slowpoke",
        description="naps",
    )
    assert created["assistant_id"] == assistant_id
    assert created["config"] == {"tags": ["t"], "recursion_limit": 7}
    assert created["metadata"] == {"team": "a"}
    assert (created["name"], created["description"]) == ("Slowpoke", "naps")


async def test_configurable_and_context_mirror_each_other(client: LangGraphClient) -> None:
    by_config = await client.assistants.create("echo", config={"configurable": {"sleep": 1}})
    assert by_config["context"] == {"sleep": 1}
    by_context = await client.assistants.create("echo", context={"sleep": 2})
    assert by_context["config"] == {"configurable": {"sleep": 2}}
    updated = await client.assistants.update(by_context["assistant_id"], context={"sleep": 3})
    assert updated["config"]["configurable"] == {"sleep": 3} and updated["context"] == {"sleep": 3}


async def test_assistant_config_reaches_its_runs(client: LangGraphClient) -> None:
    assistant = await client.assistants.create("factory", context={"greeting": "ahoy"})
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], assistant["assistant_id"], input={})
    assert result == {"items": ["ahoy"]}


async def test_if_exists_raise_conflicts_and_do_nothing_returns_existing(
    client: LangGraphClient,
) -> None:
    first = await client.assistants.create("echo", name="first", metadata={"n": 1})
    before = await client.assistants.count()
    with pytest.raises(ConflictError):
        await client.assistants.create(
            "chat", assistant_id=first["assistant_id"], name="second", if_exists="raise"
        )
    same = await client.assistants.create(
        "chat", assistant_id=first["assistant_id"], name="second", if_exists="do_nothing"
    )
    assert same == first
    assert await client.assistants.get(first["assistant_id"]) == first
    assert await client.assistants.count() == before


async def test_create_rejects_bad_input_and_stores_nothing(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    before = await client.assistants.count()
    with pytest.raises(NotFoundError):
        await client.assistants.create("no-such-graph")
    with pytest.raises(BadRequestError):
        await client.assistants.create("echo", config={"configurable": {"a": 1}}, context={"b": 2})
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.create(None)
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.create("echo", assistant_id="not-a-uuid")
    for body in (
        {"graph_id": "echo", "metadata": "text"},
        {"graph_id": "echo", "config": {"recursion_limit": 0}},
        {"graph_id": "echo", "if_exists": "replace"},
        {"graph_id": ""},
        [1, 2],
    ):
        response = await http.post("/assistants", json=body)
        assert response.status_code == 422, body
        assert "detail" in response.json()
    response = await http.post(
        "/assistants", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert await client.assistants.count() == before


async def test_update_stores_a_new_current_version(client: LangGraphClient) -> None:
    created = await client.assistants.create(
        "echo", config={"tags": ["v1"]}, metadata={"a": 1, "b": 1}, name="one", description="d1"
    )
    aid = created["assistant_id"]
    updated = await client.assistants.update(
        aid, graph_id="chat", config={"tags": ["v2"]}, metadata={"b": 2, "c": 3}, name="two"
    )
    assert updated["version"] == 2
    assert updated["graph_id"] == "chat" and updated["config"] == {"tags": ["v2"]}
    assert updated["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert (updated["name"], updated["description"]) == ("two", "d1")
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] > created["updated_at"]
    assert await client.assistants.get(aid) == updated

    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["name"] == "one" and versions[1]["graph_id"] == "echo"
    assert all(v["assistant_id"] == aid for v in versions)


async def test_set_latest_restores_an_older_version(client: LangGraphClient) -> None:
    created = await client.assistants.create(
        "echo", context={"k": 1}, metadata={"stage": "one"}, name="one"
    )
    aid = created["assistant_id"]
    await client.assistants.update(aid, context={"k": 2}, metadata={"stage": "two"}, name="two")

    restored = await client.assistants.set_latest(aid, 1)
    assert restored["version"] == 1
    for key in ("graph_id", "config", "context", "metadata", "name", "description"):
        assert restored[key] == created[key], key
    assert await client.assistants.get(aid) == restored

    # the next update numbers after the highest stored version, on top of version 1
    third = await client.assistants.update(aid, metadata={"extra": True})
    assert third["version"] == 3
    assert third["metadata"] == {"stage": "one", "extra": True}
    assert third["context"] == {"k": 1}
    assert [v["version"] for v in await client.assistants.get_versions(aid)] == [3, 2, 1]


async def test_versions_filter_by_metadata_and_paginate(client: LangGraphClient) -> None:
    aid = (await client.assistants.create("echo", metadata={"step": 0}))["assistant_id"]
    for step in range(1, 5):
        await client.assistants.update(aid, metadata={"step": step, "odd": step % 2 == 1})
    page = await client.assistants.get_versions(aid, limit=2, offset=1)
    assert [v["version"] for v in page] == [4, 3]
    odd = await client.assistants.get_versions(aid, metadata={"odd": True})
    assert [v["version"] for v in odd] == [4, 2]


async def test_failed_updates_change_nothing(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    created = await client.assistants.create("echo", metadata={"keep": True})
    aid = created["assistant_id"]
    with pytest.raises(NotFoundError):
        await client.assistants.update(aid, graph_id="no-such-graph")
    with pytest.raises(BadRequestError):
        await client.assistants.update(aid, config={"configurable": {"a": 1}}, context={"b": 2})
    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(aid, 2)
    for body in ({"metadata": [1]}, {"name": 5}, {"config": "x"}):
        assert (await http.patch(f"/assistants/{aid}", json=body)).status_code == 422
    assert (await http.post(f"/assistants/{aid}/latest", json={})).status_code == 422
    assert (await http.post(f"/assistants/{aid}/latest", json={"version": 0})).status_code == 422
    assert await client.assistants.get(aid) == created
    assert len(await client.assistants.get_versions(aid)) == 1


async def test_unknown_assistant_is_404_everywhere(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    before = await client.assistants.count()
    with pytest.raises(NotFoundError):
        await client.assistants.get(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.update(MISSING, name="x")
    with pytest.raises(NotFoundError):
        await client.assistants.delete(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.get_versions(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(MISSING, 1)
    with pytest.raises(NotFoundError):
        await client.assistants.get_graph(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.get_schemas(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.get_subgraphs(MISSING)
    with pytest.raises(NotFoundError):
        await client.assistants.get_subgraphs(MISSING, namespace="child")
    response = await http.get(f"/assistants/{MISSING}")
    assert response.status_code == 404 and MISSING in response.json()["detail"]
    assert await client.assistants.count() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/versions", {}),
        ("POST", "/latest", {"version": 1}),
        ("GET", "/schemas", None),
        ("GET", "/subgraphs", None),
        ("GET", "/subgraphs/child", None),
    ],
)
async def test_assistant_endpoints_need_a_uuid(
    http: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    # a graph id is not enough here, only on /graph
    for bad in ("echo", "not-a-uuid"):
        response = await http.request(method, f"/assistants/{bad}{path}", json=body)
        assert response.status_code == 422, (method, path, bad)
        assert "detail" in response.json()


async def test_delete_removes_the_assistant_and_its_versions(client: LangGraphClient) -> None:
    aid = (await client.assistants.create("echo"))["assistant_id"]
    await client.assistants.update(aid, name="v2")
    thread = await client.threads.create(metadata={"assistant_id": aid})
    before = await client.assistants.count()
    await client.assistants.delete(aid)
    assert await client.assistants.count() == before - 1
    with pytest.raises(NotFoundError):
        await client.assistants.get(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.get_versions(aid)
    # without delete_threads, threads stay
    assert (await client.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
    # the id is free again, and starts over at version 1
    again = await client.assistants.create("echo", assistant_id=aid)
    assert again["version"] == 1
    assert [v["version"] for v in await client.assistants.get_versions(aid)] == [1]


async def test_delete_threads_removes_its_threads_runs_and_checkpoints(
    client: LangGraphClient,
) -> None:
    aid = (await client.assistants.create("echo"))["assistant_id"]
    mine = (await client.threads.create())["thread_id"]
    assert await client.runs.wait(mine, aid, input={"items": ["x"]}) == {"items": ["x", "one"]}
    assert (await client.threads.get(mine))["metadata"]["assistant_id"] == aid
    other = (await client.threads.create())["thread_id"]
    await client.runs.wait(other, "echo", input={"items": []})

    await client.assistants.delete(aid, delete_threads=True)
    with pytest.raises(NotFoundError):
        await client.threads.get(mine)
    assert (await client.threads.get(other))["thread_id"] == other
    # a new thread with the same id starts empty: the old checkpoints are gone
    await client.threads.create(thread_id=mine)
    assert await client.runs.wait(mine, "echo", input={"items": []}) == {"items": ["one"]}


async def test_search_filters_by_graph_name_and_metadata(client: LangGraphClient) -> None:
    t = tag()
    alpha = await client.assistants.create("echo", name="Alpha Bot", metadata={**t, "k": 1})
    beta = await client.assistants.create("chat", name="beta bot", metadata={**t, "k": 2})
    await client.assistants.create("chat", name="Gamma", metadata={**t, "k": 2, "x": "y"})

    def names(found: list[Any]) -> list[str]:
        return sorted(a["name"] for a in found)

    assert names(await client.assistants.search(metadata=t)) == ["Alpha Bot", "Gamma", "beta bot"]
    assert names(await client.assistants.search(metadata=t, graph_id="chat")) == [
        "Gamma",
        "beta bot",
    ]
    assert names(await client.assistants.search(metadata=t, name="BOT")) == [
        "Alpha Bot",
        "beta bot",
    ]
    assert names(await client.assistants.search(metadata={**t, "k": 2}, name="bet")) == ["beta bot"]
    assert await client.assistants.search(metadata=t, graph_id="no-such-graph") == []
    assert await client.assistants.count(metadata=t) == 3
    assert await client.assistants.count(metadata=t, graph_id="chat") == 2
    assert await client.assistants.count(metadata={**t, "k": 2}) == 2
    assert await client.assistants.count(metadata=t, name="alpha") == 1
    assert await client.assistants.count(name="alpha bot", graph_id="echo") >= 1
    found = await client.assistants.search(metadata={**t, "k": 1})
    assert found == [await client.assistants.get(alpha["assistant_id"])]
    assert beta["assistant_id"] not in [a["assistant_id"] for a in found]


async def test_search_sorts_and_selects_fields(client: LangGraphClient) -> None:
    t = tag()
    for name in ("b", "c", "a"):
        await client.assistants.create("echo", name=name, metadata=t)
    newest_first = await client.assistants.search(metadata=t)
    assert [a["name"] for a in newest_first] == ["a", "c", "b"]
    by_name = await client.assistants.search(metadata=t, sort_by="name", sort_order="asc")
    assert [a["name"] for a in by_name] == ["a", "b", "c"]
    by_name_desc = await client.assistants.search(metadata=t, sort_by="name", sort_order="desc")
    assert [a["name"] for a in by_name_desc] == ["c", "b", "a"]
    selected = await client.assistants.search(
        metadata=t, sort_by="name", sort_order="asc", select=["assistant_id", "name"]
    )
    assert [sorted(a) for a in selected] == [["assistant_id", "name"]] * 3
    assert [a["name"] for a in selected] == ["a", "b", "c"]


async def test_search_pages_carry_pagination_headers(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    t = tag()
    created = [(await client.assistants.create("echo", name=f"p{i}", metadata=t)) for i in range(5)]
    body = {"metadata": t, "sort_by": "name", "sort_order": "asc", "limit": 2}
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        response = await http.post("/assistants/search", json={**body, "offset": offset})
        assert response.status_code == 200
        assert response.headers["X-Pagination-Total"] == "5"
        seen += [a["name"] for a in response.json()]
        nxt = response.headers.get("X-Pagination-Next")
        offset = int(nxt) if nxt is not None else None
        assert offset in (None, len(seen))
    assert seen == [a["name"] for a in created]
    past_end = await http.post("/assistants/search", json={**body, "offset": 10})
    assert past_end.json() == [] and past_end.headers["X-Pagination-Total"] == "5"
    assert "X-Pagination-Next" not in past_end.headers
    as_object = await client.assistants.search(
        metadata=t, limit=3, sort_by="name", sort_order="asc", response_format="object"
    )
    assert as_object["next"] == "3" and len(as_object["assistants"]) == 3


async def test_search_and_count_reject_bad_bodies(http: httpx.AsyncClient) -> None:
    for body in (
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"sort_by": "metadata"},
        {"sort_order": "up"},
        {"select": ["password"]},
        {"metadata": "x"},
    ):
        response = await http.post("/assistants/search", json=body)
        assert response.status_code == 422, body
    assert (await http.post("/assistants/count", json={"metadata": [1]})).status_code == 422
    versions = await http.post(
        f"/assistants/{system_assistant_id('echo')}/versions", json={"limit": 0}
    )
    assert versions.status_code == 422


def _node_ids(graph: dict[str, Any]) -> set[str]:
    return {n["id"] for n in graph["nodes"]}


async def test_graph_draws_nodes_and_edges(client: LangGraphClient) -> None:
    drawing = await client.assistants.get_graph(str(system_assistant_id("echo")))
    assert _node_ids(drawing) == {"__start__", "one", "__end__"}
    assert {(e["source"], e["target"]) for e in drawing["edges"]} == {
        ("__start__", "one"),
        ("one", "__end__"),
    }
    # a graph id names the graph's system assistant here
    assert await client.assistants.get_graph("echo") == drawing
    ten = await client.assistants.get_graph("ten")
    assert {f"step_{i}" for i in range(1, 11)} <= _node_ids(ten)


async def test_graph_xray_expands_subgraphs(client: LangGraphClient) -> None:
    flat = await client.assistants.get_graph("parent")
    assert {"child", "after"} <= _node_ids(flat)
    assert "child:child_node" not in _node_ids(flat)
    for xray in (True, 1):
        deep = await client.assistants.get_graph("parent", xray=xray)
        assert "child:child_node" in _node_ids(deep) and "child" not in _node_ids(deep)


async def test_graph_nodes_describe_their_runnable_without_its_import_path(
    client: LangGraphClient,
) -> None:
    """As the official server draws them: a node's ``data`` names its runnable, without the
    ``id`` (Python import path) LangGraph's drawing puts there, in every drawing."""
    for xray in (False, True):
        drawing = await client.assistants.get_graph("parent", xray=xray)
        datas = [n["data"] for n in drawing["nodes"] if isinstance(n.get("data"), dict)]
        assert datas and all("id" not in data and data.get("name") for data in datas)


async def test_graph_of_a_user_assistant_and_of_a_factory(client: LangGraphClient) -> None:
    assistant = await client.assistants.create("factory", context={"greeting": "yo"})
    drawing = await client.assistants.get_graph(assistant["assistant_id"])
    assert "greet" in _node_ids(drawing)


async def test_graph_rejects_unknown_names_and_bad_xray(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.get_graph("no-such-graph")
    response = await http.get("/assistants/echo/graph", params={"xray": "deep"})
    assert response.status_code == 422


async def test_schemas_describe_the_graph(client: LangGraphClient) -> None:
    parent = await client.assistants.get_schemas(str(system_assistant_id("parent")))
    assert parent["graph_id"] == "parent"
    assert set(parent) == {
        "graph_id",
        "input_schema",
        "output_schema",
        "state_schema",
        "config_schema",
        "context_schema",
    }
    for key in ("input_schema", "output_schema", "state_schema"):
        assert parent[key]["type"] == "object" and "items" in parent[key]["properties"], key
    assert parent["context_schema"] is None

    chat = await client.assistants.get_schemas(str(system_assistant_id("chat")))
    assert "messages" in chat["input_schema"]["properties"]
    assert "messages" in chat["state_schema"]["properties"]

    factory = await client.assistants.create("factory", context={"greeting": "hey"})
    schemas = await client.assistants.get_schemas(factory["assistant_id"])
    assert schemas["graph_id"] == "factory" and "items" in schemas["state_schema"]["properties"]


async def test_subgraphs_by_namespace(client: LangGraphClient) -> None:
    parent = str(system_assistant_id("parent"))
    found = await client.assistants.get_subgraphs(parent)
    assert list(found) == ["child"]
    assert "items" in found["child"]["state_schema"]["properties"]
    assert "graph_id" not in found["child"]
    assert await client.assistants.get_subgraphs(parent, recurse=True) == found
    assert await client.assistants.get_subgraphs(parent, namespace="child") == found
    assert await client.assistants.get_subgraphs(parent, namespace="nope") == {}
    assert await client.assistants.get_subgraphs(str(system_assistant_id("echo"))) == {}
