"""The store (long-term memory) through the official SDK: items, search, namespaces, TTL,
semantic search, graph code on the same store, and data kept across a restart.

httpx is used only where the SDK hides what is checked (status codes, ``null`` bodies, bodies
the SDK refuses to send). Tests that need ``store`` settings run their own ``lg-deploy dev`` on
``tests/graphs/langgraph_store.json``: a bag-of-letters embedding over ``text``, a default TTL
of 6 s and a sweep every 1.2 s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import BadRequestError, UnprocessableEntityError

from tests.support import ROOT, Server, dev_server, postgres_dir, sdk, start

STORE_CONFIG = ROOT / "tests" / "graphs" / "langgraph_store.json"
SHORT_TTL = 0.1
"""Minutes (6 s): long enough to read an item right after putting it, short for a test."""


def root() -> str:
    """A namespace label unique to one test, so each test sees only its own items."""
    return uuid.uuid4().hex


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` every 0.2 s until true (generous timeout; no timing asserted)."""
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture(scope="module")
def store_server() -> Iterator[Server]:
    """``lg-deploy dev`` with the ``store`` settings of ``langgraph_store.json``."""
    with dev_server("store", config=STORE_CONFIG) as srv:
        yield srv


@pytest.fixture(scope="module")
async def store_client(store_server: Server) -> AsyncIterator[LangGraphClient]:
    """The official SDK on :func:`store_server`."""
    async with sdk(store_server) as c:
        yield c


# --- items ------------------------------------------------------------------------------------


async def test_put_get_replace_and_delete_an_item(client: LangGraphClient) -> None:
    ns = [root(), "profile"]
    await client.store.put_item(ns, "prefs", {"theme": "dark", "size": 3})
    item = await client.store.get_item(ns, "prefs")
    assert (item["namespace"], item["key"], item["value"]) == (
        ns,
        "prefs",
        {"theme": "dark", "size": 3},
    )
    assert item["created_at"] == item["updated_at"]

    await client.store.put_item(ns, "prefs", {"theme": "light"})
    replaced = await client.store.get_item(ns, "prefs")
    assert replaced["value"] == {"theme": "light"}
    assert replaced["updated_at"] > item["updated_at"]

    await client.store.delete_item(ns, "prefs")
    assert await client.store.get_item(ns, "prefs") is None
    await client.store.delete_item(ns, "prefs")  # deleting a missing item is fine


async def test_get_of_a_missing_item_is_null_with_200(http: httpx.AsyncClient) -> None:
    response = await http.get("/store/items", params={"namespace": f"{root()}.x", "key": "none"})
    assert response.status_code == 200
    assert response.json() is None


async def test_get_takes_the_namespace_as_labels_joined_with_dots(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    ns = [root(), "a", "b"]
    await client.store.put_item(ns, "k", {"v": 1})
    response = await http.get("/store/items", params={"namespace": ".".join(ns), "key": "k"})
    assert response.json()["namespace"] == ns
    await client.store.put_item(ns[:2], "k", {"v": 2})  # a parent namespace is another item
    assert (await client.store.get_item(ns[:2], "k"))["value"] == {"v": 2}
    assert (await client.store.get_item(ns, "k"))["value"] == {"v": 1}


# --- search -----------------------------------------------------------------------------------


async def test_search_filters_compare_numbers_as_numbers(client: LangGraphClient) -> None:
    ns = [root()]
    for key, score, tag in [("a", 1, "x"), ("b", 5, "y"), ("c", 10, "x"), ("d", 20, "y")]:
        await client.store.put_item(ns, key, {"score": score, "tag": tag})

    async def keys(filter: dict[str, Any]) -> set[str]:
        found = await client.store.search_items(ns, filter=filter)
        return {item["key"] for item in found["items"]}

    assert await keys({"score": {"$gt": 5}}) == {"c", "d"}
    assert await keys({"score": {"$gte": 5, "$lt": 20}}) == {"b", "c"}
    assert await keys({"score": {"$lte": 5}}) == {"a", "b"}
    assert await keys({"tag": "x"}) == {"a", "c"}
    assert await keys({"tag": {"$eq": "y"}}) == {"b", "d"}
    assert await keys({"tag": {"$ne": "y"}, "score": {"$gt": 1}}) == {"c"}
    assert await keys({"tag": {"$gt": 5}}) == set()  # a string is not compared with a number


async def test_search_pages_newest_update_first(client: LangGraphClient) -> None:
    ns = [root()]
    for i in range(5):
        await client.store.put_item(ns, f"k{i}", {"i": i})
    pages = [
        [item["key"] for item in (await client.store.search_items(ns, limit=2, offset=o))["items"]]
        for o in (0, 2, 4)
    ]
    assert pages == [["k4", "k3"], ["k2", "k1"], ["k0"]]
    first = (await client.store.search_items(ns, limit=1))["items"][0]
    assert set(first) == {"namespace", "key", "value", "created_at", "updated_at", "score"}


async def test_search_prefix_matches_whole_labels(client: LangGraphClient) -> None:
    top = root()
    await client.store.put_item([top, "user"], "a", {})
    await client.store.put_item([top, "user", "notes"], "b", {})
    await client.store.put_item([top, "user2"], "c", {})
    found = await client.store.search_items([top, "user"])
    assert {(tuple(i["namespace"]), i["key"]) for i in found["items"]} == {
        ((top, "user"), "a"),
        ((top, "user", "notes"), "b"),
    }


# --- namespaces -------------------------------------------------------------------------------


async def test_namespaces_by_prefix_suffix_and_max_depth(client: LangGraphClient) -> None:
    top = root()
    for ns in ([top, "a", "x"], [top, "a", "y"], [top, "b"], [top, "b", "x", "deep"]):
        await client.store.put_item(ns, "k", {})

    async def listed(**kwargs: Any) -> list[list[str]]:
        return (await client.store.list_namespaces(**kwargs))["namespaces"]

    everything = [[top, "a", "x"], [top, "a", "y"], [top, "b"], [top, "b", "x", "deep"]]
    assert await listed(prefix=[top]) == everything
    assert await listed(prefix=[top], max_depth=2) == [[top, "a"], [top, "b"]]
    assert await listed(prefix=[top], suffix=["x"]) == [[top, "a", "x"]]
    assert await listed(prefix=[top, "*", "x"]) == [[top, "a", "x"], [top, "b", "x", "deep"]]
    assert await listed(prefix=[top], limit=2, offset=1) == everything[1:3]


# --- graph code -------------------------------------------------------------------------------


async def test_graph_code_reads_and_writes_the_store_the_api_sees(client: LangGraphClient) -> None:
    user = root()
    await client.store.put_item(["memories", user], "seed", {"planted": "by the api"})
    result = await client.runs.wait(None, "memory", input={"user": user, "facts": ["tea", "jam"]})
    assert result["seed"] == {"planted": "by the api"}  # the graph read the API's item
    assert (await client.store.get_item(["memories", user], "fact-1"))["value"] == {"text": "jam"}
    tally = await client.store.get_item(["memories", user], "tally")  # sync node, injected store
    assert tally["value"] == {"count": 2}


# --- bad input --------------------------------------------------------------------------------

ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "put": ("PUT", "/store/items", {"namespace": ["{r}"], "key": "k", "value": {}}),
    "delete": ("DELETE", "/store/items", {"namespace": ["{r}"], "key": "k"}),
    "search": ("POST", "/store/items/search", {"namespace_prefix": ["{r}"]}),
    "namespaces": ("POST", "/store/namespaces", {"prefix": ["{r}"]}),
}
"""Each endpoint with a valid body; a bad-input case changes some fields (``None`` drops one)."""
MISSING = None
BAD_INPUT: list[tuple[str, str, dict[str, Any]]] = [
    ("dotted label", "put", {"namespace": ["{r}", "a.b"]}),
    ("empty label", "put", {"namespace": ["{r}", ""]}),
    ("no namespace", "put", {"namespace": []}),
    ("reserved root label", "put", {"namespace": ["langgraph", "{r}"]}),
    ("no key", "put", {"key": MISSING}),
    ("value not an object", "put", {"value": [1]}),
    ("NUL in value", "put", {"value": {"a": "\x00"}}),
    ("negative ttl", "put", {"ttl": -1}),
    ("index true", "put", {"index": True}),
    ("dotted label on delete", "delete", {"namespace": ["{r}", "a.b"]}),
    ("unknown operator", "search", {"filter": {"a": {"$like": 1}}}),
    ("operators mixed with fields", "search", {"filter": {"a": {"$gt": 1, "b": 2}}}),
    ("limit zero", "search", {"limit": 0}),
    ("negative offset", "search", {"offset": -1}),
    ("dotted prefix", "search", {"namespace_prefix": ["{r}.x"]}),
    ("max_depth zero", "namespaces", {"max_depth": 0}),
    ("dotted suffix", "namespaces", {"suffix": ["a.b"]}),
]


def _with_root(value: Any, label: str) -> Any:
    if isinstance(value, str):
        return value.replace("{r}", label)
    if isinstance(value, list):
        return [_with_root(v, label) for v in value]
    if isinstance(value, dict):
        return {k: _with_root(v, label) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("endpoint", "change"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
async def test_bad_input_is_4xx_with_detail_and_changes_nothing(
    http: httpx.AsyncClient, endpoint: str, change: dict[str, Any]
) -> None:
    label = root()
    method, path, valid = ENDPOINTS[endpoint]
    body = {k: v for k, v in {**valid, **change}.items() if v is not MISSING}
    response = await http.request(method, path, json=_with_root(body, label))
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    search = await http.post("/store/items/search", json={"namespace_prefix": [label]})
    assert search.json() == {"items": []}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"namespace": ["{r}"], "key": "k", "value": {"x": NaN}}', 422),
        (b'{"namespace": ["{r}"], "key": "k", "value": {"x": 1e999}}', 422),
        (b'{"namespace": ["{r}"], "key": "k", "value": {', 422),
    ],
    ids=["NaN", "infinite number", "truncated JSON"],
)
async def test_values_postgres_cannot_hold_are_refused(
    http: httpx.AsyncClient, raw: bytes, status: int
) -> None:
    label = root()
    body = raw.replace(b"{r}", label.encode())
    response = await http.put(
        "/store/items", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    search = await http.post("/store/items/search", json={"namespace_prefix": [label]})
    assert search.json() == {"items": []}


async def test_get_without_key_is_400_and_bad_namespace_422(client: LangGraphClient) -> None:
    with pytest.raises(BadRequestError):
        await client.http.get("/store/items", params={"namespace": root()})
    with pytest.raises(UnprocessableEntityError):
        await client.http.get("/store/items", params={"namespace": f"{root()}..x", "key": "k"})


# --- TTL --------------------------------------------------------------------------------------


async def test_items_expire_after_their_ttl_or_the_default_ttl(
    store_client: LangGraphClient, store_server: Server
) -> None:
    ns = [root()]
    await store_client.store.put_item(ns, "explicit", {"v": 1}, ttl=SHORT_TTL)
    await store_client.store.put_item(ns, "default", {"v": 2})  # store.ttl.default_ttl
    await store_client.store.put_item(ns, "long", {"v": 3}, ttl=60)
    async with httpx.AsyncClient(base_url=store_server.url) as http:
        response = await http.put(
            "/store/items", json={"namespace": ns, "key": "forever", "value": {}, "ttl": None}
        )
        assert response.status_code == 204
    assert (await store_client.store.get_item(ns, "explicit", refresh_ttl=False)) is not None

    async def expired() -> bool:
        found = await store_client.store.search_items(ns, refresh_ttl=False)
        return {item["key"] for item in found["items"]} == {"long", "forever"}

    await eventually(expired, "items past their TTL disappear")
    assert await store_client.store.get_item(ns, "explicit") is None
    assert await store_client.store.get_item(ns, "default") is None


async def test_reads_with_refresh_ttl_keep_an_item_alive(store_client: LangGraphClient) -> None:
    top = root()
    for key in ("by_get", "by_search", "unread"):
        await store_client.store.put_item([top, key], key, {"text": key}, ttl=SHORT_TTL)

    async def control_expired() -> bool:
        await store_client.store.get_item([top, "by_get"], "by_get", refresh_ttl=True)
        await store_client.store.search_items([top, "by_search"], refresh_ttl=True)
        unread = await store_client.store.get_item([top, "unread"], "unread", refresh_ttl=False)
        return unread is None

    await eventually(control_expired, "the item read without refresh expires")
    assert await store_client.store.get_item([top, "by_get"], "by_get") is not None
    assert await store_client.store.get_item([top, "by_search"], "by_search") is not None


# --- semantic search --------------------------------------------------------------------------


async def test_query_ranks_items_by_similarity_of_their_indexed_fields(
    store_client: LangGraphClient,
) -> None:
    ns = [root()]
    docs = {
        "apple": {"text": "apple apple pie"},
        "zebra": {"text": "zebra zoo"},
        "banana": {"text": "banana bread"},
    }
    for key, value in docs.items():
        await store_client.store.put_item(ns, key, value, ttl=60)
    await store_client.store.put_item(ns, "unindexed", {"text": "zebra"}, index=False, ttl=60)
    await store_client.store.put_item(
        ns, "by_title", {"title": "zebra zoo"}, index=["title"], ttl=60
    )

    found = (await store_client.store.search_items(ns, query="zebra zoo", limit=10))["items"]
    keys = [item["key"] for item in found]
    assert keys[0] in {"zebra", "by_title"} and set(keys[:2]) == {"zebra", "by_title"}
    assert "unindexed" not in keys
    scores = [item["score"] for item in found]
    assert scores == sorted(scores, reverse=True)

    apple = await store_client.store.search_items(ns, query="apple", limit=1)
    assert [item["key"] for item in apple["items"]] == ["apple"]
    filtered = await store_client.store.search_items(
        ns, query="zebra zoo", filter={"text": "banana bread"}
    )
    assert [item["key"] for item in filtered["items"]] == ["banana"]


# --- restart ----------------------------------------------------------------------------------


async def test_items_and_their_vectors_survive_a_restart() -> None:
    ns = [root()]
    with postgres_dir("store-restart") as base:
        first = start("dev", config=STORE_CONFIG, data_dir=base / "data", log=base / "first.log")
        try:
            async with sdk(first) as c:
                await c.store.put_item(ns, "kept", {"text": "quiet quay"}, ttl=60)
                await c.store.put_item(ns, "other", {"text": "loud land"}, ttl=60)
        finally:
            assert first.stop() == 0, first.log_text()

        second = start("dev", config=STORE_CONFIG, data_dir=base / "data", log=base / "second.log")
        try:
            async with sdk(second) as c:
                kept = await c.store.get_item(ns, "kept")
                found = await c.store.search_items(ns, query="quiet", limit=1)
        finally:
            assert second.stop() == 0, second.log_text()
    assert kept["value"] == {"text": "quiet quay"}
    assert [item["key"] for item in found["items"]] == ["kept"]
    assert found["items"][0]["score"] is not None
