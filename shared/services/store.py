"""The operations of the ``/store/*`` endpoints (Agent Server API, "Store") on the process's
store (:mod:`shared.runtime.store`)."""

from __future__ import annotations

from typing import Any

from langgraph.store.base import InvalidNamespaceError
from langgraph.store.postgres.aio import AsyncPostgresStore

from shared.api.store import StoreDelete, StoreGet, StoreNamespaceList, StorePut, StoreSearch
from shared.errors import BadRequest, Invalid
from shared.runtime.context import Runtime


def _store(rt: Runtime) -> AsyncPostgresStore:
    if rt.store is None:
        raise RuntimeError("the store is not open in this process")
    return rt.store


async def put_item(rt: Runtime, body: StorePut) -> None:
    """``PUT /store/items``. Raises Invalid for a reserved namespace (``langgraph``)."""
    ttl = {"ttl": body.ttl} if "ttl" in body.model_fields_set else {}
    try:
        await _store(rt).aput(tuple(body.namespace), body.key, body.value, body.index, **ttl)
    except InvalidNamespaceError as exc:
        raise Invalid(str(exc)) from exc


async def get_item(rt: Runtime, query: StoreGet) -> dict[str, Any] | None:
    """``GET /store/items``: the item, or ``None`` when absent. Raises BadRequest without key."""
    if query.key is None:
        raise BadRequest("Query parameter 'key' is required")
    item = await _store(rt).aget(tuple(query.namespace), query.key, refresh_ttl=query.refresh_ttl)
    return item.dict() if item is not None else None


async def delete_item(rt: Runtime, body: StoreDelete) -> None:
    """``DELETE /store/items`` (a missing item is fine)."""
    await _store(rt).adelete(tuple(body.namespace), body.key)


async def search_items(rt: Runtime, body: StoreSearch) -> dict[str, Any]:
    """``POST /store/items/search``: ``{"items": [item + score]}``."""
    items = await _store(rt).asearch(
        tuple(body.namespace_prefix or ()),
        query=body.query,
        filter=body.filter,
        limit=body.limit,
        offset=body.offset,
        refresh_ttl=body.refresh_ttl,
    )
    return {"items": [item.dict() for item in items]}


async def list_namespaces(rt: Runtime, body: StoreNamespaceList) -> dict[str, Any]:
    """``POST /store/namespaces``: ``{"namespaces": [[label, …], …]}``."""
    namespaces = await _store(rt).alist_namespaces(
        prefix=tuple(body.prefix) if body.prefix else None,
        suffix=tuple(body.suffix) if body.suffix else None,
        max_depth=body.max_depth,
        limit=body.limit,
        offset=body.offset,
    )
    return {"namespaces": [list(ns) for ns in namespaces]}
