"""The operations of the ``/store/*`` endpoints (Agent Server API, "Store") on the caller's
tenant's store (:class:`~shared.runtime.tenant_store.TenantStore` over the process's store).

Each operation is first authorized as the official server does (``langgraph_api``'s store
routes): ``rt.access.authorize(ctx, "store", action, value)`` with ``value`` in the shape of
``langgraph_sdk.auth.types`` ``StorePut``/``StoreGet``/``StoreSearch``/``StoreListNamespaces``/
``StoreDelete`` (namespaces as tuples; ``put`` also gets ``ttl``, ``get`` and ``search``
``refresh_ttl``). A handler may change any of these fields, e.g. put the user's identity in
front of ``namespace`` (the docs' per-user namespaces); the operation then uses the changed
value. The filter ``authorize`` returns limits a search (the values must contain it); other
actions ignore it, as officially.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from langgraph.store.base import NOT_PROVIDED, InvalidNamespaceError

from shared.api.store import StoreDelete, StoreGet, StoreNamespaceList, StorePut, StoreSearch
from shared.auth.access import Action
from shared.auth.context import RequestContext
from shared.errors import BadRequest, Invalid
from shared.runtime.context import Runtime
from shared.runtime.store import CONTAINS
from shared.runtime.tenant_store import TenantStore


def _store(rt: Runtime, ctx: RequestContext) -> TenantStore:
    if rt.store is None:
        raise RuntimeError("the store is not open in this process")
    return TenantStore(rt.store, ctx.tenant_id)


async def _authorize(
    rt: Runtime, ctx: RequestContext, action: Action, value: dict[str, Any]
) -> Mapping[str, Any] | None:
    """``value`` as the handlers left it, checked; returns the search filter they set."""
    found = await rt.access.authorize(ctx, "store", action, value)
    for field in ("namespace", "suffix"):
        labels = value.get(field)
        if labels is not None and not isinstance(labels, list | tuple):
            raise Invalid(f"{field} must be a list of labels, not {labels!r}")
    return found


@contextmanager
def _namespace_errors() -> Iterator[None]:
    """The store's InvalidNamespaceError (a bad label, the reserved ``langgraph`` root) as
    Invalid (422)."""
    try:
        yield
    except InvalidNamespaceError as exc:
        raise Invalid(str(exc)) from exc


def _labels(labels: list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if labels is None else tuple(labels)


def _filtered(search: Mapping[str, Any] | None, auth: Mapping[str, Any]) -> dict[str, Any]:
    """``search`` (the caller's filter) and ``auth`` (each value must contain it) in one
    filter: every field's conditions as one object of operators."""
    combined: dict[str, Any] = {}
    for field, condition in (search or {}).items():
        operators = isinstance(condition, dict) and any(k.startswith("$") for k in condition)
        combined[field] = dict(condition) if operators else {"$eq": condition}
    for field, contained in auth.items():
        combined[field] = {**combined.get(field, {}), CONTAINS: contained}
    return combined


async def put_item(rt: Runtime, ctx: RequestContext, body: StorePut) -> None:
    """``PUT /store/items``. Raises Invalid for a reserved namespace (``langgraph``), or a bad
    one set by an authorization handler; Forbidden if denied."""
    value: dict[str, Any] = {
        "namespace": tuple(body.namespace),
        "key": body.key,
        "value": body.value,
        "index": body.index,
        "ttl": body.ttl,
    }
    await _authorize(rt, ctx, "put", value)
    given = "ttl" in body.model_fields_set or value["ttl"] is not None
    with _namespace_errors():
        await _store(rt, ctx).aput(
            tuple(value["namespace"]),
            value["key"],
            value["value"],
            value["index"],
            ttl=value["ttl"] if given else NOT_PROVIDED,
        )


async def get_item(rt: Runtime, ctx: RequestContext, query: StoreGet) -> dict[str, Any] | None:
    """``GET /store/items``: the item, or ``None`` when absent. Raises BadRequest without key;
    Forbidden if denied."""
    if query.key is None:
        raise BadRequest("Query parameter 'key' is required")
    value: dict[str, Any] = {
        "namespace": tuple(query.namespace),
        "key": query.key,
        "refresh_ttl": query.refresh_ttl,
    }
    await _authorize(rt, ctx, "get", value)
    with _namespace_errors():
        item = await _store(rt, ctx).aget(
            tuple(value["namespace"]), value["key"], refresh_ttl=value["refresh_ttl"]
        )
    return item.dict() if item is not None else None


async def delete_item(rt: Runtime, ctx: RequestContext, body: StoreDelete) -> None:
    """``DELETE /store/items`` (a missing item is fine). Raises Forbidden if denied."""
    value: dict[str, Any] = {"namespace": tuple(body.namespace), "key": body.key}
    await _authorize(rt, ctx, "delete", value)
    with _namespace_errors():
        await _store(rt, ctx).adelete(tuple(value["namespace"]), value["key"])


async def search_items(rt: Runtime, ctx: RequestContext, body: StoreSearch) -> dict[str, Any]:
    """``POST /store/items/search``: ``{"items": [item + score]}``. Raises Forbidden if
    denied."""
    value: dict[str, Any] = {
        "namespace": tuple(body.namespace_prefix or ()),
        "filter": body.filter,
        "limit": body.limit,
        "offset": body.offset,
        "query": body.query,
        "refresh_ttl": body.refresh_ttl,
    }
    auth_filter = await _authorize(rt, ctx, "search", value)
    with _namespace_errors():
        items = await _store(rt, ctx).asearch(
            tuple(value["namespace"]),
            query=value["query"],
            filter=_filtered(value["filter"], auth_filter) if auth_filter else value["filter"],
            limit=value["limit"],
            offset=value["offset"],
            refresh_ttl=value["refresh_ttl"],
        )
    return {"items": [item.dict() for item in items]}


async def list_namespaces(
    rt: Runtime, ctx: RequestContext, body: StoreNamespaceList
) -> dict[str, Any]:
    """``POST /store/namespaces``: ``{"namespaces": [[label, …], …]}``. Raises Forbidden if
    denied."""
    value: dict[str, Any] = {
        "namespace": _labels(body.prefix or None),
        "suffix": _labels(body.suffix or None),
        "max_depth": body.max_depth,
        "limit": body.limit,
        "offset": body.offset,
    }
    await _authorize(rt, ctx, "list_namespaces", value)
    with _namespace_errors():
        namespaces = await _store(rt, ctx).alist_namespaces(
            prefix=_labels(value["namespace"]),
            suffix=_labels(value["suffix"]),
            max_depth=value["max_depth"],
            limit=value["limit"],
            offset=value["offset"],
        )
    return {"namespaces": [list(ns) for ns in namespaces]}
