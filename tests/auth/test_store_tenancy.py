"""The store belongs to tenants: :class:`TenantStore` on the real PostgreSQL store, the
``/store/*`` services with two tenants' request contexts and custom authorization, graph
runs writing into their run's tenant, and items stored before tenancy kept for ``default``.

Everything runs on a real embedded PostgreSQL. The request contexts are built here, and the
authorization handlers are small :class:`~shared.auth.access.Access` implementations doing what
the official docs' ``@auth.on.store`` handlers do, since API keys and the ``langgraph_sdk.Auth``
adapter are separate pieces.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)
from starlette.requests import Request

from shared.api.store import StoreDelete, StoreGet, StoreNamespaceList, StorePut, StoreSearch
from shared.auth.access import Action, MetadataFilter, Resource
from shared.auth.context import Caller, RequestContext
from shared.bootstrap import close_runtime, load_project, open_runtime
from shared.config import Settings
from shared.db.migrate import apply_migrations, setup_store_tables
from shared.db.pool import open_database
from shared.errors import Forbidden, Invalid
from shared.runtime.context import Runtime
from shared.runtime.store import Store, index_config, parse_store_config
from shared.runtime.tenant_store import TenantStore, tenant_label
from shared.services import store as service
from tests.support import ROOT, create_database, executor_id, sdk, start

GRAPHS = ROOT / "tests" / "graphs"
DEFAULT_TTL = 60.0
"""Minutes: the ``store.ttl.default_ttl`` of the tests' project."""


def label() -> str:
    """A namespace label unique to one test."""
    return uuid.uuid4().hex


def tenant() -> str:
    """A tenant id unique to one test."""
    return f"t-{uuid.uuid4().hex[:8]}"


def ctx(tenant_id: str, identity: str = "someone") -> RequestContext:
    """A request context of ``identity`` in ``tenant_id``."""
    return RequestContext(tenant_id, Caller(identity=identity, role="developer"))


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``langgraph.json``: the ``memory`` graph, a store index over ``text`` (bag of letters)
    and a default TTL of :data:`DEFAULT_TTL`."""
    path = tmp_path_factory.mktemp("project") / "langgraph.json"
    store = {
        "index": {"dims": 26, "embed": f"{GRAPHS / 'embeddings.py'}:letters", "fields": ["text"]},
        "ttl": {"default_ttl": DEFAULT_TTL},
    }
    graphs = {"memory": f"{GRAPHS / 'graphs.py'}:memory"}
    path.write_text(json.dumps({"dependencies": [str(GRAPHS)], "graphs": graphs, "store": store}))
    return path


@pytest.fixture(scope="module")
async def rt(database_url: str, project_file: Path) -> AsyncIterator[Runtime]:
    """A real runtime (migrated database, store with index and TTL) on its own database."""
    dsn = await create_database(database_url, "services")
    settings = Settings(config=project_file, database_url=dsn)
    project, graphs = load_project(settings)
    runtime = await open_runtime(settings, dsn, project, graphs, in_process_bus=True)
    yield runtime
    await close_runtime(runtime)


@pytest.fixture
def store(rt: Runtime) -> Store:
    """The process's store (all tenants)."""
    assert isinstance(rt.store, Store)
    return rt.store


# --- TenantStore on the real store ------------------------------------------------------------


async def test_a_tenant_reads_changes_and_deletes_only_its_own_items(store: Store) -> None:
    a, b = TenantStore(store, tenant()), TenantStore(store, tenant())
    ns = (label(), "profile")
    await a.aput(ns, "prefs", {"theme": "dark"})
    assert await b.aget(ns, "prefs") is None

    await b.aput(ns, "prefs", {"theme": "light"})
    mine, theirs = await a.aget(ns, "prefs"), await b.aget(ns, "prefs")
    assert mine is not None and theirs is not None
    assert (mine.namespace, mine.value) == (ns, {"theme": "dark"})
    assert (theirs.namespace, theirs.value) == (ns, {"theme": "light"})

    await b.adelete(ns, "prefs")
    assert await b.aget(ns, "prefs") is None
    assert (await a.aget(ns, "prefs")) == mine


async def test_searches_and_listings_see_only_the_tenants_items(store: Store) -> None:
    a, b = TenantStore(store, tenant()), TenantStore(store, tenant())
    root = label()
    await a.aput((root, "docs"), "fig", {"text": "fig tree"})
    await a.aput((root, "docs", "old"), "pear", {"text": "pear"})
    await b.aput((root, "docs"), "figs", {"text": "fig fig fig"})

    everything = await a.asearch((), limit=100)
    assert sorted((i.namespace, i.key) for i in everything) == [
        ((root, "docs"), "fig"),
        ((root, "docs", "old"), "pear"),
    ]
    ranked = await a.asearch((root,), query="fig", limit=10)
    assert [i.key for i in ranked] == ["fig", "pear"]
    assert ranked[0].score is not None and ranked[0].namespace == (root, "docs")
    assert [i.key for i in await a.asearch((root, "docs", "old"))] == ["pear"]

    assert await a.alist_namespaces() == [(root, "docs"), (root, "docs", "old")]
    assert await b.alist_namespaces() == [(root, "docs")]
    assert await a.alist_namespaces(max_depth=1) == [(root,)]
    assert await a.alist_namespaces(prefix=(root,), max_depth=2**31 - 1) == [
        (root, "docs"),
        (root, "docs", "old"),
    ]
    assert await a.alist_namespaces(prefix=(root, "*", "old")) == [(root, "docs", "old")]


async def test_tenant_ids_that_would_spell_the_same_text_never_share_items(
    store: Store,
) -> None:
    """Without encoding, ``a`` + (``b``, ``x``) and ``a.b`` + (``x``,) are both ``a.b.x``;
    ``*`` would be a wildcard in a listing, ``_`` a wildcard of ``LIKE``."""
    run = label()[:6]
    ids = [f"{run}", f"{run}.b", f"{run}%2Eb", f"{run}_c", f"{run}xc", "*", f"{run}*"]
    namespaces = [("b", "x"), ("x",), ("x",), ("y",), ("y",), ("z",), ("z",)]
    stores = [TenantStore(store, t) for t in ids]
    assert len({s.label for s in stores}) == len(ids)
    for tenant_store, ns, tenant_id in zip(stores, namespaces, ids, strict=True):
        await tenant_store.aput(ns, "k", {"tenant": tenant_id})
    for tenant_store, ns, tenant_id in zip(stores, namespaces, ids, strict=True):
        found = await tenant_store.asearch((), limit=100)
        assert [(i.namespace, i.value) for i in found] == [(ns, {"tenant": tenant_id})]
        assert await tenant_store.alist_namespaces() == [ns]
        item = await tenant_store.aget(ns, "k")
        assert item is not None and item.value == {"tenant": tenant_id}


def test_a_tenant_label_is_never_empty() -> None:
    with pytest.raises(ValueError, match="never empty"):
        tenant_label("")


async def test_a_suffix_is_matched_on_the_tenants_labels_only(store: Store) -> None:
    tenant_id = tenant()
    mine = TenantStore(store, tenant_id)
    root = label()
    await mine.aput((root,), "k", {"v": 1})
    await mine.aput((root, "a", "b"), "k", {"v": 2})

    assert await mine.alist_namespaces(suffix=(tenant_id, root)) == []
    assert await mine.alist_namespaces(suffix=("*", root)) == []
    assert await mine.alist_namespaces(suffix=(root,)) == [(root,)]
    assert await mine.alist_namespaces(suffix=("*", "b"), max_depth=2) == [(root, "a")]
    raw = ListNamespacesOp(
        match_conditions=(
            MatchCondition("prefix", (root,)),
            MatchCondition("suffix", ("*", "*", "b")),
            MatchCondition("suffix", ()),
        ),
    )
    assert await mine.abatch([raw]) == [[(root, "a", "b")]]


async def test_one_batch_mixes_operations_of_every_kind(store: Store) -> None:
    mine = TenantStore(store, tenant())
    root = label()
    assert await mine.abatch([PutOp((root,), "k", {"text": "kiwi"})]) == [None]
    got, found, listed, deleted = await mine.abatch(
        [
            GetOp((root,), "k"),
            SearchOp((root,)),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", (root,)),)),
            PutOp((root,), "gone", None),
        ]
    )
    assert isinstance(got, Item) and (got.namespace, got.value) == ((root,), {"text": "kiwi"})
    assert isinstance(found, list) and [i.namespace for i in found] == [(root,)]  # type: ignore[union-attr]
    assert (listed, deleted) == ([(root,)], None)


async def test_the_reserved_namespace_ttl_and_index_work_as_on_the_store(
    store: Store, rt: Runtime
) -> None:
    tenant_id = tenant()
    mine = TenantStore(store, tenant_id)
    with pytest.raises(InvalidNamespaceError, match="langgraph"):
        await mine.aput(("langgraph", "x"), "k", {"v": 1})
    with pytest.raises(InvalidNamespaceError, match="periods"):
        await mine.aget(("a.b",), "k")
    await TenantStore(store, "langgraph").aput(("x",), "k", {"v": 1})  # only the label is

    root = label()
    await mine.aput((root,), "default", {"text": "a"})
    await mine.aput((root,), "short", {"text": "b"}, ttl=5, index=False)
    await mine.aput((root,), "forever", {"text": "c"}, ttl=None)
    rows = await rt.db.pool.fetch(
        "SELECT s.key, s.ttl_minutes, s.expires_at IS NOT NULL AS expires,"
        " EXISTS (SELECT 1 FROM store_vectors v WHERE v.prefix = s.prefix AND v.key = s.key)"
        " AS embedded FROM store s WHERE s.prefix = $1 ORDER BY s.key",
        f"{tenant_id}.{root}",
    )
    assert [tuple(r) for r in rows] == [
        ("default", DEFAULT_TTL, True, True),
        ("forever", None, False, True),
        ("short", 5, True, False),
    ]
    await rt.db.pool.execute(
        "UPDATE store SET expires_at = now() + interval '1 minute' WHERE prefix = $1",
        f"{tenant_id}.{root}",
    )
    await mine.aget((root,), "default")  # refreshed on read (the store's ttl_config)
    await mine.aget((root,), "short", refresh_ttl=False)
    left = await rt.db.pool.fetch(
        "SELECT key, expires_at - now() > interval '2 minutes' AS refreshed FROM store"
        " WHERE prefix = $1 AND ttl_minutes IS NOT NULL ORDER BY key",
        f"{tenant_id}.{root}",
    )
    assert [tuple(r) for r in left] == [("default", True), ("short", False)]


async def test_sync_calls_from_a_worker_thread_stay_in_the_tenant(store: Store) -> None:
    """As a sync graph node calls it (``store.put`` in a thread)."""
    a, b = TenantStore(store, tenant()), TenantStore(store, tenant())
    root = label()
    await asyncio.to_thread(a.put, (root,), "k", {"v": "a"})
    assert await asyncio.to_thread(b.get, (root,), "k") is None
    assert [i.value for i in await asyncio.to_thread(a.search, (root,))] == [{"v": "a"}]
    assert await asyncio.to_thread(a.list_namespaces, prefix=(root,)) == [(root,)]


# --- items stored before tenancy --------------------------------------------------------------


async def test_items_stored_before_tenancy_belong_to_the_default_tenant(
    database_url: str, rt: Runtime
) -> None:
    """A database whose store was used before migration 0014 (its tables exist, rows have no
    tenant label): migrating gives every row, embeddings included, to ``default``. ``x`` and
    ``default.x`` also show that no row takes a prefix another still has while they move."""
    assert rt.store is not None
    dsn = await create_database(database_url, "legacy")
    db = await open_database(dsn, pool_size=2, checkpoint_pool_size=2)
    try:
        settings = parse_store_config(rt.project).index
        assert settings is not None
        index = index_config(rt.project, settings)
        await setup_store_tables(db.checkpoint_pool, index)
        before = Store(db.checkpoint_pool, index=index)  # type: ignore[arg-type]
        await before.aput(("memories", "u1"), "fig", {"text": "fig"})
        await before.aput(("x",), "k", {"text": "plain"})
        await before.aput(("default", "x"), "k", {"text": "named default"})
        async with db.pool.acquire() as conn:
            applied = await apply_migrations(conn)
        assert "0014_store_tenants.sql" in applied

        default, other = TenantStore(before, "default"), TenantStore(before, tenant())
        assert (await default.aget(("x",), "k")).value == {"text": "plain"}  # type: ignore[union-attr]
        assert (await default.aget(("default", "x"), "k")).value == {"text": "named default"}  # type: ignore[union-attr]
        ranked = await default.asearch(("memories",), query="fig")
        assert [(i.namespace, i.key) for i in ranked] == [(("memories", "u1"), "fig")]
        assert sorted(await default.alist_namespaces()) == [
            ("default", "x"),
            ("memories", "u1"),
            ("x",),
        ]
        assert await other.asearch(()) == [] and await other.alist_namespaces() == []
        prefixes = await db.pool.fetch(
            "SELECT prefix FROM store UNION ALL SELECT prefix FROM store_vectors"
        )
        assert all(r["prefix"].startswith("default.") for r in prefixes)
    finally:
        await db.close()


# --- the /store/* services with request contexts ----------------------------------------------


async def test_two_tenants_contexts_cannot_see_each_others_items(rt: Runtime) -> None:
    acme, globex = ctx(tenant(), "alice"), ctx(tenant(), "bob")
    ns = [label(), "notes"]
    await service.put_item(rt, acme, StorePut(namespace=ns, key="k", value={"owner": "acme"}))

    assert await service.get_item(rt, globex, StoreGet(namespace=[".".join(ns)], key="k")) is None
    assert await service.search_items(rt, globex, StoreSearch(namespace_prefix=ns)) == {"items": []}
    assert await service.search_items(rt, globex, StoreSearch()) == {"items": []}
    listed = await service.list_namespaces(rt, globex, StoreNamespaceList(prefix=ns[:1]))
    assert listed == {"namespaces": []}

    await service.delete_item(rt, globex, StoreDelete(namespace=ns, key="k"))
    await service.put_item(rt, globex, StorePut(namespace=ns, key="k", value={"owner": "globex"}))
    mine = await service.get_item(rt, acme, StoreGet(namespace=ns, key="k"))
    assert mine is not None and (mine["namespace"], mine["value"]) == (ns, {"owner": "acme"})
    found = await service.search_items(rt, acme, StoreSearch(namespace_prefix=ns[:1]))
    assert [item["value"] for item in found["items"]] == [{"owner": "acme"}]
    listed = await service.list_namespaces(rt, acme, StoreNamespaceList(prefix=ns[:1]))
    assert listed == {"namespaces": [ns]}


class PerUserNamespaces:
    """The docs' per-user store handler: every namespace starts with the caller's identity
    (``(identity,)`` when a listing has none). Keeps what it was asked, for the shapes."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def authenticate(self, request: Request) -> RequestContext:
        raise NotImplementedError  # the services are called with a context

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        assert resource == "store"
        self.asked.append((action, dict(value)))
        value["namespace"] = (ctx.caller.identity, *(value["namespace"] or ()))
        return None


async def test_a_handler_that_rewrites_the_namespace_is_honoured(rt: Runtime) -> None:
    access = PerUserNamespaces()
    scoped = replace(rt, access=access)
    team = tenant()
    alice, bob = ctx(team, "alice"), ctx(team, "bob")
    ns = [label()]
    await service.put_item(scoped, alice, StorePut(namespace=ns, key="k", value={"text": "a"}))

    assert await service.get_item(scoped, bob, StoreGet(namespace=ns, key="k")) is None
    item = await service.get_item(scoped, alice, StoreGet(namespace=ns, key="k"))
    assert item is not None and item["namespace"] == ["alice", *ns]
    found = await service.search_items(scoped, alice, StoreSearch(namespace_prefix=ns))
    assert [i["namespace"] for i in found["items"]] == [["alice", *ns]]
    assert await service.search_items(scoped, bob, StoreSearch()) == {"items": []}
    listed = await service.list_namespaces(scoped, alice, StoreNamespaceList(max_depth=2))
    assert listed == {"namespaces": [["alice", *ns]]}
    await service.delete_item(scoped, bob, StoreDelete(namespace=ns, key="k"))
    assert await service.get_item(rt, alice, StoreGet(namespace=["alice", *ns], key="k"))

    shapes = {action: value for action, value in access.asked}
    assert shapes == {
        "put": {
            "namespace": (*ns,),
            "key": "k",
            "value": {"text": "a"},
            "index": None,
            "ttl": None,
        },
        "get": {"namespace": (*ns,), "key": "k", "refresh_ttl": None},
        "search": {
            "namespace": (),
            "filter": None,
            "limit": 10,
            "offset": 0,
            "query": None,
            "refresh_ttl": None,
        },
        "list_namespaces": {
            "namespace": None,
            "suffix": None,
            "max_depth": 2,
            "limit": 100,
            "offset": 0,
        },
        "delete": {"namespace": (*ns,), "key": "k"},
    }


class OwnerFilter:
    """A store handler that limits searches to values whose ``owner`` is the caller."""

    async def authenticate(self, request: Request) -> RequestContext:
        raise NotImplementedError

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        return {"owner": ctx.caller.identity} if action == "search" else None


async def test_a_search_filter_from_the_handler_limits_the_items_found(rt: Runtime) -> None:
    scoped = replace(rt, access=OwnerFilter())
    team = tenant()
    alice = ctx(team, "alice")
    ns = [label()]
    for key, value in {
        "a1": {"owner": "alice", "n": 1},
        "a2": {"owner": ["alice", "bob"], "n": 2},
        "b1": {"owner": "bob", "n": 1},
    }.items():
        await service.put_item(scoped, alice, StorePut(namespace=ns, key=key, value=value))

    async def keys(**search: Any) -> list[str]:
        found = await service.search_items(
            scoped, alice, StoreSearch(namespace_prefix=ns, **search)
        )
        return sorted(item["key"] for item in found["items"])

    assert await keys() == ["a1", "a2"]
    assert await keys(filter={"n": 1}) == ["a1"]
    assert await keys(filter={"owner": "bob"}) == []
    assert await keys(filter={"n": {"$gt": 1}}) == ["a2"]


class Deny:
    """A store handler that denies ``put`` and rewrites ``get`` to a namespace the store
    refuses."""

    async def authenticate(self, request: Request) -> RequestContext:
        raise NotImplementedError

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        if action == "put":
            raise Forbidden("no writes")
        value["namespace"] = "not a list" if action == "get" else ("bad.label",)
        return None


async def test_denied_or_badly_rewritten_operations_change_nothing(rt: Runtime) -> None:
    denied = replace(rt, access=Deny())
    caller = ctx(tenant())
    ns = [label()]
    with pytest.raises(Forbidden):
        await service.put_item(denied, caller, StorePut(namespace=ns, key="k", value={}))
    assert await service.get_item(rt, caller, StoreGet(namespace=ns, key="k")) is None
    with pytest.raises(Invalid, match="list of labels"):
        await service.get_item(denied, caller, StoreGet(namespace=ns, key="k"))
    with pytest.raises(Invalid, match="periods"):
        await service.delete_item(denied, caller, StoreDelete(namespace=ns, key="k"))


# --- graph runs -------------------------------------------------------------------------------


async def test_a_graphs_store_writes_land_in_its_runs_tenant(
    database_url: str, project_file: Path, tmp_path: Path, rt: Runtime
) -> None:
    """A run of tenant ``acme``'s (made by intake, moved to the tenant before an executor
    starts) puts its facts through ``runtime.store`` and the injected store of a sync node:
    they are ``acme``'s, and the default tenant's API does not see them."""
    assert rt.store is not None
    dsn = await create_database(database_url, "runs")
    acme, user = tenant(), label()
    intake = start("intake", config=project_file, database_url=dsn, log=tmp_path / "intake.log")
    executor = None
    try:
        async with sdk(intake) as client:
            thread = await client.threads.create()
            run = await client.runs.create(
                thread["thread_id"], "memory", input={"user": user, "facts": ["fig"]}
            )
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(
                    "UPDATE runs SET tenant_id = $2, request_context = jsonb_set("
                    " coalesce(request_context, '{}'), '{tenant_id}', to_jsonb($2::text))"
                    " WHERE run_id = $1",
                    uuid.UUID(run["run_id"]),
                    acme,
                )
                await conn.execute(
                    "UPDATE threads SET tenant_id = $2 WHERE thread_id = $1",
                    uuid.UUID(thread["thread_id"]),
                    acme,
                )
                executor = start(
                    "executor",
                    config=project_file,
                    database_url=dsn,
                    log=tmp_path / "executor.log",
                )
                executor_id(executor)
                for _ in range(300):
                    status = await conn.fetchval(
                        "SELECT status FROM runs WHERE run_id = $1", uuid.UUID(run["run_id"])
                    )
                    if status not in ("pending", "running"):
                        break
                    await asyncio.sleep(0.2)
            finally:
                await conn.close()
            assert status == "success", executor.log_text()
            assert await client.store.get_item(["memories", user], "fact-0") is None
            assert (await client.store.search_items(["memories"]))["items"] == []

        db = await open_database(dsn, pool_size=2, checkpoint_pool_size=2)
        try:
            theirs = TenantStore(Store(db.checkpoint_pool), acme)
            found = await theirs.asearch(("memories", user))
            assert sorted((i.key, i.value) for i in found) == [
                ("fact-0", {"text": "fig"}),
                ("tally", {"count": 1}),
            ]
        finally:
            await db.close()
    finally:
        if executor is not None:
            executor.stop()
        intake.stop()
