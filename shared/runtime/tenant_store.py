"""One tenant's view of the shared store: every item belongs to exactly one tenant.

:class:`TenantStore` wraps the process's store (:mod:`shared.runtime.store`) and puts the
tenant's label (:func:`tenant_label`) in front of every namespace it sends down, and takes it
off every namespace it hands back. A tenant therefore cannot name, search, list or overwrite
another tenant's namespaces: its prefixes, searches and listings are anchored on its own label,
which the store matches whole (label by label, never as a text prefix), and no two tenants
share a label. Each operation is mapped in memory and sent to the shared store as the same
single batch: no extra round trip.

Every tenant, ``default`` included, has a label; migration ``0014_store_tenants.sql`` moved the
items stored before tenancy under ``default``.

Source of the operations and their semantics: ``langgraph.store.base`` (``GetOp``, ``PutOp``,
``SearchOp``, ``ListNamespacesOp`` with prefix/suffix ``MatchCondition`` where ``*`` matches one
label, ``max_depth``). The reserved root label ``langgraph``, TTLs (``ttl_config``, refresh on
read) and ``index`` work as on the wrapped store: ``BaseStore`` checks and fills them in on the
tenant's namespace before the operation reaches :meth:`TenantStore.abatch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    validate_op_namespace,
)

from shared.api.payload import INT32_MAX

_ESCAPES = {"%": "%25", ".": "%2E", "*": "%2A"}


def tenant_label(tenant_id: str) -> str:
    """The namespace label of ``tenant_id``: the id with ``%``, ``.`` and ``*`` percent-encoded
    (``.`` separates labels in the store, ``*`` is a wildcard of namespace listings), so that
    two tenants never share a label. Raises ValueError for an empty id."""
    if not tenant_id:
        raise ValueError("a tenant id is never empty")
    return "".join(_ESCAPES.get(c, c) for c in tenant_id)


class TenantStore(BaseStore):
    """``store`` as the tenant ``tenant_id`` sees it (see the module docstring)."""

    def __init__(self, store: BaseStore, tenant_id: str) -> None:
        self.store = store
        self.label = tenant_label(tenant_id)
        self.supports_ttl = store.supports_ttl
        self.ttl_config = store.ttl_config

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """``ops`` on the tenant's namespaces, as one batch of the wrapped store."""
        ops = list(ops)
        return self._results(ops, self.store.batch([self._scoped(op) for op in ops]))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """``ops`` on the tenant's namespaces, as one batch of the wrapped store."""
        ops = list(ops)
        return self._results(ops, await self.store.abatch([self._scoped(op) for op in ops]))

    def _inner(self, namespace: tuple[str, ...]) -> tuple[str, ...]:
        return (self.label, *namespace)

    def _scoped(self, op: Op) -> Op:
        """``op`` on the wrapped store. Raises InvalidNamespaceError for a bad label (as the
        store would, but naming the tenant's namespace)."""
        validate_op_namespace(op)
        if isinstance(op, GetOp | PutOp):
            return op._replace(namespace=self._inner(op.namespace))
        if isinstance(op, SearchOp):
            return op._replace(namespace_prefix=self._inner(op.namespace_prefix))
        if isinstance(op, ListNamespacesOp):
            return self._scoped_listing(op)
        raise TypeError(f"unknown store operation {op!r}")

    def _scoped_listing(self, op: ListNamespacesOp) -> ListNamespacesOp:
        """Prefixes start with the label. A suffix is matched on whole labels from the end, so
        a guard prefix of the label and one ``*`` per suffix label keeps it off the label: a
        namespace matches only if its tenant part is as long as the suffix. ``max_depth`` counts
        the label too (at most ``INT32_MAX``, the store's SQL ``integer``: it cuts nothing)."""
        conditions = op.match_conditions or ()
        longest_suffix = max(
            (len(c.path) for c in conditions if c.match_type == "suffix"), default=0
        )
        guard = MatchCondition("prefix", (self.label, *("*",) * longest_suffix))
        scoped = [
            c._replace(path=self._inner(c.path)) if c.match_type == "prefix" else c
            for c in conditions
        ]
        return op._replace(
            match_conditions=(guard, *scoped),
            max_depth=None if op.max_depth is None else min(op.max_depth + 1, INT32_MAX),
        )

    def _results(self, ops: list[Op], results: list[Result]) -> list[Result]:
        """The wrapped store's ``results`` of ``ops``, with the label taken off namespaces."""
        out: list[Result] = []
        for op, result in zip(ops, results, strict=True):
            if isinstance(op, GetOp) and result is not None:
                out.append(_item(cast(Item, result)))
            elif isinstance(op, SearchOp):
                out.append([_search_item(item) for item in cast(list[SearchItem], result)])
            elif isinstance(op, ListNamespacesOp):
                out.append([ns[1:] for ns in cast(list[tuple[str, ...]], result)])
            else:
                out.append(result)
        return out


def tenant_store(store: BaseStore | None, tenant_id: str) -> TenantStore | None:
    """``store`` as ``tenant_id`` sees it; ``None`` without a store."""
    return None if store is None else TenantStore(store, tenant_id)


def _fields(item: Item) -> dict[str, Any]:
    return {
        "namespace": item.namespace[1:],
        "key": item.key,
        "value": item.value,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _item(item: Item) -> Item:
    """A copy of ``item`` (the wrapped store's may be its own object) without the label."""
    return Item(**_fields(item))


def _search_item(item: SearchItem) -> SearchItem:
    return SearchItem(**_fields(item), score=item.score)
