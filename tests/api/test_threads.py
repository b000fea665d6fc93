"""Threads through the official SDK: create, get, update, delete, search, count, copy, prune.

httpx is used only where the SDK hides what is checked (headers, malformed bodies).
"""

from __future__ import annotations

import asyncio
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


def marker() -> dict[str, str]:
    """Metadata unique to one test, so searches see only that test's threads."""
    return {"suite": str(uuid.uuid4())}


async def wait_status(client: LangGraphClient, thread_id: str, status: str) -> dict[str, Any]:
    """The thread once it reaches ``status`` (generous timeout; no timing asserted)."""
    for _ in range(600):
        thread = await client.threads.get(thread_id)
        if thread["status"] == status:
            return thread
        await asyncio.sleep(0.05)
    raise AssertionError(f"thread {thread_id} never became {status}: {thread}")


# --- create / get / update ---------------------------------------------------------------------


async def test_create_with_id_and_metadata_then_get(client: LangGraphClient) -> None:
    thread_id = str(uuid.uuid4())
    created = await client.threads.create(thread_id=thread_id, metadata={"user": "ann"})
    assert created["thread_id"] == thread_id
    assert created["metadata"] == {"user": "ann"}
    assert created["status"] == "idle"
    assert created["values"] is None
    assert await client.threads.get(thread_id) == created


async def test_create_existing_id_raise_is_409_and_keeps_the_thread(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create(metadata={"v": 1})
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread["thread_id"], metadata={"v": 2})
    assert (await client.threads.get(thread["thread_id"]))["metadata"] == {"v": 1}


async def test_create_existing_id_do_nothing_returns_the_existing_thread(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create(metadata={"v": 1})
    again = await client.threads.create(
        thread_id=thread["thread_id"], metadata={"v": 2}, if_exists="do_nothing"
    )
    assert again == thread


async def test_create_accepts_ttl(client: LangGraphClient) -> None:
    thread = await client.threads.create(ttl={"ttl": 60, "strategy": "delete"})
    assert (await client.threads.get(thread["thread_id"], include=["ttl"]))["status"] == "idle"


async def test_create_with_supersteps_writes_state_at_once(client: LangGraphClient) -> None:
    thread = await client.threads.create(
        graph_id="echo",
        supersteps=[{"updates": [{"values": {"items": ["a"]}, "as_node": "one"}]}],
    )
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"] == {"items": ["a"]}
    assert state["metadata"]["source"] == "update"
    assert len(await client.threads.get_history(thread["thread_id"])) == 1
    stored = await client.threads.get(thread["thread_id"])
    assert stored["values"] == {"items": ["a"]}
    assert stored["metadata"]["graph_id"] == "echo"


@pytest.mark.parametrize(
    ("metadata", "as_node", "error"),
    [
        ({}, "one", UnprocessableEntityError),
        ({"graph_id": "no-such-graph"}, "one", UnprocessableEntityError),
        ({"graph_id": "echo"}, "no-such-node", BadRequestError),  # the graph refuses it
    ],
)
async def test_create_with_unusable_supersteps_is_refused_and_creates_nothing(
    client: LangGraphClient, metadata: dict[str, Any], as_node: str, error: type[Exception]
) -> None:
    thread_id = str(uuid.uuid4())
    with pytest.raises(error):
        await client.threads.create(
            thread_id=thread_id,
            metadata=metadata,
            supersteps=[{"updates": [{"values": {"items": ["a"]}, "as_node": as_node}]}],
        )
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)
    again = await client.threads.create(thread_id=thread_id, graph_id="echo")
    assert (await client.threads.get_state(again["thread_id"]))["values"] == {}


async def test_patch_merges_metadata(client: LangGraphClient) -> None:
    thread = await client.threads.create(metadata={"a": 1, "b": 1})
    updated = await client.threads.update(thread["thread_id"], metadata={"b": 2, "c": 3})
    assert updated["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert updated["updated_at"] >= thread["updated_at"]
    minimal = await client.threads.update(
        thread["thread_id"], metadata={"d": 4}, ttl=30, return_minimal=True
    )
    assert minimal is None
    stored = await client.threads.get(thread["thread_id"])
    assert stored["metadata"] == {"a": 1, "b": 2, "c": 3, "d": 4}


async def test_unknown_thread_is_404_and_invalid_id_is_422(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    unknown = str(uuid.uuid4())
    for call in (
        client.threads.get(unknown),
        client.threads.update(unknown, metadata={"a": 1}),
        client.threads.delete(unknown),
        client.threads.copy(unknown),
    ):
        with pytest.raises(NotFoundError):
            await call
    for method, path in [
        ("GET", "/threads/nope"),
        ("PATCH", "/threads/nope"),
        ("DELETE", "/threads/nope"),
        ("POST", "/threads/nope/copy"),
    ]:
        response = await http.request(method, path, json={"metadata": {}})
        assert response.status_code == 422, (method, path)
        assert "detail" in response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/threads", {"thread_id": "not-a-uuid"}),
        ("/threads", {"metadata": ["not", "an", "object"]}),
        ("/threads", {"if_exists": "overwrite"}),
        ("/threads", {"ttl": {"strategy": "forever"}}),
        ("/threads", {"supersteps": [{"updates": []}], "metadata": {"graph_id": "echo"}}),
        ("/threads/search", {"limit": 0}),
        ("/threads/search", {"offset": -1}),
        ("/threads/search", {"status": "sleeping"}),
        ("/threads/search", {"sort_by": "metadata"}),
        ("/threads/search", {"sort_order": "up"}),
        ("/threads/search", {"ids": ["not-a-uuid"]}),
        ("/threads/search", {"select": ["password"]}),
        ("/threads/search", {"extract": {"x": "secrets.key"}}),
        ("/threads/search", {"extract": {"x": "values..key"}}),
        ("/threads/search", {"values": "text"}),
        ("/threads/count", {"status": "sleeping"}),
        ("/threads/count", {"metadata": 5}),
        ("/threads/prune", {}),
        ("/threads/prune", {"thread_ids": ["not-a-uuid"]}),
        ("/threads/prune", {"thread_ids": [], "strategy": "shred"}),
    ],
)
async def test_bad_bodies_are_422_and_change_nothing(
    http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    before = (await http.post("/threads/count", json={})).json()
    response = await http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    assert (await http.post("/threads/count", json={})).json() == before


async def test_malformed_json_is_422(http: httpx.AsyncClient) -> None:
    thread = (await http.post("/threads", json={"metadata": {"a": 1}})).json()
    for method, path in [
        ("POST", "/threads"),
        ("POST", "/threads/search"),
        ("PATCH", f"/threads/{thread['thread_id']}"),
    ]:
        response = await http.request(
            method, path, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (method, path)
    response = await http.patch(f"/threads/{thread['thread_id']}", json={"metadata": [1]})
    assert response.status_code == 422
    assert (await http.get(f"/threads/{thread['thread_id']}")).json()["metadata"] == {"a": 1}


# --- delete ------------------------------------------------------------------------------------


async def test_delete_removes_thread_runs_and_checkpoints(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    await client.runs.wait(thread_id, "echo", input={"items": []})
    [run] = await client.runs.list(thread_id)
    await client.threads.delete(thread_id)
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, run["run_id"])
    await client.threads.create(thread_id=thread_id, graph_id="echo")
    assert await client.threads.get_history(thread_id) == []
    assert await client.runs.list(thread_id) == []


async def test_delete_cancels_an_active_run(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    run = await client.runs.create(
        thread_id, "slow", input={"items": []}, config={"configurable": {"sleep": 5}}
    )
    await client.threads.delete(thread_id)
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, run["run_id"])
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)
    # The thread's id is free again and carries none of the cancelled run's checkpoints.
    await client.threads.create(thread_id=thread_id, graph_id="slow")
    assert await client.threads.get_history(thread_id) == []


# --- copy --------------------------------------------------------------------------------------


async def test_copy_keeps_metadata_state_and_history_but_not_runs(
    client: LangGraphClient,
) -> None:
    source = await client.threads.create(metadata={"owner": "ann"})
    source_id = source["thread_id"]
    await client.runs.wait(source_id, "echo", input={"items": ["x"]})
    copy = await client.threads.copy(source_id)
    copy_id = copy["thread_id"]
    assert copy_id != source_id
    assert copy["metadata"] == (await client.threads.get(source_id))["metadata"]
    assert copy["values"] == {"items": ["x", "one"]}
    assert copy["status"] == "idle"
    source_history = await client.threads.get_history(source_id, limit=100)
    copy_history = await client.threads.get_history(copy_id, limit=100)
    assert [s["checkpoint_id"] for s in copy_history] == [
        s["checkpoint_id"] for s in source_history
    ]
    assert [s["values"] for s in copy_history] == [s["values"] for s in source_history]
    assert {s["checkpoint"]["thread_id"] for s in copy_history} == {copy_id}
    assert await client.runs.list(copy_id) == []
    # The copy goes on from the copied state; the source is left alone.
    result = await client.runs.wait(copy_id, "echo", input={"items": ["y"]})
    assert result == {"items": ["x", "one", "y", "one"]}
    assert (await client.threads.get_state(source_id))["values"] == {"items": ["x", "one"]}


# --- search / count ----------------------------------------------------------------------------


async def test_search_filters_by_metadata_values_status_and_ids(
    client: LangGraphClient,
) -> None:
    mark = marker()
    idle = await client.threads.create(metadata={**mark, "kind": "echo"})
    await client.runs.wait(idle["thread_id"], "echo", input={"items": ["e"]})
    paused = await client.threads.create(metadata={**mark, "kind": "human"})
    await client.runs.wait(paused["thread_id"], "human", input={"items": ["h"]})
    fresh = await client.threads.create(metadata=mark)

    def ids(threads: list[Any]) -> set[str]:
        return {t["thread_id"] for t in threads}

    everything = {idle["thread_id"], paused["thread_id"], fresh["thread_id"]}
    assert ids(await client.threads.search(metadata=mark)) == everything
    by_kind = await client.threads.search(metadata={**mark, "kind": "human"})
    assert ids(by_kind) == {paused["thread_id"]}
    by_values = await client.threads.search(metadata=mark, values={"items": ["e"]})
    assert ids(by_values) == {idle["thread_id"]}
    interrupted = await client.threads.search(metadata=mark, status="interrupted")
    assert ids(interrupted) == {paused["thread_id"]}
    assert interrupted[0]["interrupts"]
    chosen = await client.threads.search(ids=[fresh["thread_id"], idle["thread_id"]])
    assert ids(chosen) == {fresh["thread_id"], idle["thread_id"]}
    assert await client.threads.count(metadata=mark) == 3
    assert await client.threads.count(metadata=mark, status="idle") == 2
    assert await client.threads.count(metadata=mark, values={"items": ["h"]}) == 1
    assert await client.threads.count(metadata={**mark, "kind": "none"}) == 0


async def test_search_sorts_and_pages_with_real_totals(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    mark = marker()
    created = [
        (await client.threads.create(metadata={**mark, "n": n}))["thread_id"] for n in range(5)
    ]
    oldest_first = await client.threads.search(
        metadata=mark, sort_by="created_at", sort_order="asc", limit=10
    )
    assert [t["thread_id"] for t in oldest_first] == created
    newest_first = await client.threads.search(metadata=mark, sort_by="created_at")
    assert [t["thread_id"] for t in newest_first] == created[::-1]
    by_id = await client.threads.search(metadata=mark, sort_by="thread_id", sort_order="asc")
    assert [t["thread_id"] for t in by_id] == sorted(created)

    body = {"metadata": mark, "sort_by": "created_at", "sort_order": "asc", "limit": 2}
    first = await http.post("/threads/search", json={**body, "offset": 0})
    assert [t["thread_id"] for t in first.json()] == created[:2]
    assert first.headers["X-Pagination-Total"] == "5"
    assert first.headers["X-Pagination-Next"] == "2"
    last = await http.post("/threads/search", json={**body, "offset": 4})
    assert [t["thread_id"] for t in last.json()] == created[4:]
    assert last.headers["X-Pagination-Total"] == "5"
    assert "X-Pagination-Next" not in last.headers
    beyond = await http.post("/threads/search", json={**body, "offset": 10})
    assert beyond.json() == []
    assert beyond.headers["X-Pagination-Total"] == "5"


async def test_search_select_and_extract(client: LangGraphClient) -> None:
    mark = marker()
    thread = await client.threads.create(metadata={**mark, "deep": {"k": "v"}})
    await client.runs.wait(thread["thread_id"], "echo", input={"items": ["a", "b"]})
    [found] = await client.threads.search(
        metadata=mark,
        select=["thread_id", "status"],
        extract={"last": "values.items[-1]", "first": "values.items[0]", "k": "metadata.deep.k"},
    )
    assert found == {
        "thread_id": thread["thread_id"],
        "status": "idle",
        "extracted": {"last": "one", "first": "a", "k": "v"},
    }
    [missing] = await client.threads.search(metadata=mark, extract={"m": "values.nothing"})
    assert missing["extracted"] == {"m": None}
    assert missing["values"] == {"items": ["a", "b", "one"]}


async def test_search_and_count_never_show_stateless_runs_threads(
    client: LangGraphClient,
) -> None:
    mark = marker()
    run = await client.runs.create(None, "echo", input={"items": []}, metadata=mark)
    assert await client.threads.search(ids=[run["thread_id"]]) == []
    graph_threads = await client.threads.search(metadata={"graph_id": "echo"}, limit=1000)
    assert run["thread_id"] not in {t["thread_id"] for t in graph_threads}
    await client.runs.join(run["thread_id"], run["run_id"])
    assert await client.threads.search(ids=[run["thread_id"]]) == []


# --- prune -------------------------------------------------------------------------------------


async def test_prune_delete_removes_the_named_threads(client: LangGraphClient) -> None:
    mark = marker()
    a = await client.threads.create(metadata=mark)
    b = await client.threads.create(metadata=mark)
    keep = await client.threads.create(metadata=mark)
    await client.runs.wait(a["thread_id"], "echo", input={"items": []})
    result = await client.threads.prune([a["thread_id"], b["thread_id"], str(uuid.uuid4())])
    assert result == {"pruned_count": 2}
    assert [t["thread_id"] for t in await client.threads.search(metadata=mark)] == [
        keep["thread_id"]
    ]
    await client.threads.create(thread_id=a["thread_id"], graph_id="echo")
    assert await client.threads.get_history(a["thread_id"]) == []


async def test_prune_keep_latest_keeps_only_the_latest_checkpoint(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    await client.runs.wait(thread_id, "ten", input={"items": []})
    before = await client.threads.get_state(thread_id)
    assert len(await client.threads.get_history(thread_id, limit=100)) == 12
    result = await client.threads.prune([thread_id], strategy="keep_latest")
    assert result == {"pruned_count": 1}
    [only] = await client.threads.get_history(thread_id, limit=100)
    assert only["checkpoint_id"] == before["checkpoint_id"]
    assert only["values"] == before["values"]
    assert (await client.threads.get(thread_id))["values"] == before["values"]
    # The thread goes on from its latest state.
    result = await client.runs.wait(thread_id, "ten", input={"items": ["more"]})
    assert result["items"] == [*before["values"]["items"], "more", *before["values"]["items"]]
