"""The store (long-term memory): langgraph-checkpoint-postgres's ``AsyncPostgresStore`` on the
process's psycopg pool, configured from ``langgraph.json`` ``store`` (the ``/store/*``
operations are :mod:`shared.services.store`).

``store`` section, as the official config: ``ttl`` (``default_ttl`` minutes for items put
without ``ttl``; ``refresh_on_read``, default true; ``sweep_interval_minutes``, default 5;
fractions allowed) and ``index`` (``dims``; ``embed``: ``"./file.py:function"``,
``"module:function"`` or a provider string such as ``"openai:text-embedding-3-small"``, which
needs langchain; ``fields``, default the whole value). Expired items are never read, even
before the sweeper deletes them; every process that opens the store runs its sweeper.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from langchain_core.embeddings import Embeddings
from langgraph.store.base import TTLConfig, ensure_embeddings
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig
from psycopg_pool import AsyncConnectionPool

from shared.db.migrate import setup_store_tables
from shared.graphs.config import ConfigError, ObjectRef, ProjectConfig, parse_object_ref
from shared.graphs.registry import import_object

_RANGE_OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass(frozen=True)
class IndexSettings:
    """``store.index``: vectors of ``dims`` floats from ``embed`` over ``fields``."""

    dims: int
    embed: ObjectRef | str
    """A project function or ``Embeddings`` object, or a langchain provider string."""
    fields: tuple[str, ...] | None


@dataclass(frozen=True)
class StoreSettings:
    """The validated ``store`` section."""

    ttl: TTLConfig
    index: IndexSettings | None


def _number(path: Path, key: str, value: Any, *, integer: bool = False) -> float:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ConfigError(path, key, f"must be a positive {'integer' if integer else 'number'}")
    return value


def _section(path: Path, key: str, value: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a JSON object")
    for name in value:
        if name not in known:
            raise ConfigError(path, f"{key}.{name}", f"unknown key (known: {sorted(known)})")
    return value


def _parse_ttl(path: Path, raw: Any) -> TTLConfig:
    section = _section(
        path, "store.ttl", raw, {"default_ttl", "refresh_on_read", "sweep_interval_minutes"}
    )
    ttl = TTLConfig(omit_expired=True)
    if section.get("default_ttl") is not None:
        ttl["default_ttl"] = _number(path, "store.ttl.default_ttl", section["default_ttl"])
    if "refresh_on_read" in section:
        if not isinstance(section["refresh_on_read"], bool):
            raise ConfigError(path, "store.ttl.refresh_on_read", "must be true or false")
        ttl["refresh_on_read"] = section["refresh_on_read"]
    if section.get("sweep_interval_minutes") is not None:
        interval = _number(
            path, "store.ttl.sweep_interval_minutes", section["sweep_interval_minutes"]
        )
        ttl["sweep_interval_minutes"] = interval  # type: ignore[typeddict-item]  # fractions allowed
    return ttl


def _parse_embed(path: Path, value: Any) -> ObjectRef | str:
    provider, _, model = value.partition(":") if isinstance(value, str) else ("", "", "")
    if provider.isidentifier() and model and not model.isidentifier():
        return str(value)  # "openai:text-embedding-3-small": for langchain's init_embeddings
    return parse_object_ref(path, "store.index.embed", value)


def _parse_index(path: Path, raw: Any) -> IndexSettings:
    section = _section(path, "store.index", raw, {"dims", "embed", "fields"})
    for required in ("dims", "embed"):
        if required not in section:
            raise ConfigError(path, f"store.index.{required}", "is required")
    fields = section.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields)
    ):
        raise ConfigError(path, "store.index.fields", "must be a list of field paths")
    return IndexSettings(
        dims=int(_number(path, "store.index.dims", section["dims"], integer=True)),
        embed=_parse_embed(path, section["embed"]),
        fields=tuple(fields) if fields else None,
    )


def parse_store_config(project: ProjectConfig) -> StoreSettings:
    """Validate ``project.store`` (pure: imports nothing). Raises :class:`ConfigError` naming
    the key, e.g. ``store.ttl.default_ttl``."""
    raw = project.store
    _section(project.path, "store", raw, {"ttl", "index"})
    index = raw.get("index")
    return StoreSettings(
        ttl=_parse_ttl(project.path, raw.get("ttl") or {}),
        index=_parse_index(project.path, index) if index is not None else None,
    )


def index_config(project: ProjectConfig, index: IndexSettings) -> PostgresIndexConfig:
    """The store's ``index`` argument: ``store.index.embed`` imported like a graph (or a
    provider string given to langchain). Raises :class:`ConfigError` if it cannot be loaded."""
    target: Any = index.embed
    if isinstance(index.embed, ObjectRef):
        target = import_object(project, index.embed, "_lgd_store_embed")
        if not callable(target) and not isinstance(target, Embeddings):
            raise ConfigError(
                project.path,
                index.embed.key,
                f"{index.embed.variable!r} is a {type(target).__name__}, not an embedding function",
            )
    try:
        embeddings = ensure_embeddings(target)
    except Exception as exc:  # langchain missing, unknown provider, …
        raise ConfigError(project.path, "store.index.embed", str(exc)) from exc
    config = PostgresIndexConfig(dims=index.dims, embed=embeddings)
    if index.fields:
        config["fields"] = list(index.fields)
    return config


CONTAINS = "$contains"
"""A filter operator of :class:`Store` alone: the field's JSON value contains the operand
(PostgreSQL ``@>``: ``{"tags": {"$contains": ["x"]}}`` keeps values whose ``tags`` include
``"x"``). It applies an authorization filter (:meth:`shared.auth.access.Access.authorize`) to
a search; the API's ``filter`` does not offer it."""


class Store(AsyncPostgresStore):
    """``AsyncPostgresStore`` whose range filters (``$gt $gte $lt $lte``) compare JSON values of
    one type, numbers as numbers (as ``InMemoryStore`` does); the library compares their text,
    so 10 < 9. Also filters with :data:`CONTAINS`."""

    def _get_filter_condition(self, key: str, op: str, value: Any) -> tuple[str, list[Any]]:
        if op == CONTAINS:
            return "value->%s @> %s::jsonb", [key, orjson.dumps(value).decode()]
        sql = _RANGE_OPERATORS.get(op)
        if sql is None:
            return super()._get_filter_condition(key, op, value)
        operand = orjson.dumps(value).decode()
        condition = (
            f"(jsonb_typeof(value->%s) = jsonb_typeof(%s::jsonb) AND value->%s {sql} %s::jsonb)"
        )
        return condition, [key, operand, key, operand]


async def open_store(pool: AsyncConnectionPool, project: ProjectConfig) -> Store:
    """Create the store's tables (pgvector's too with an index), open the store on ``pool``
    and start its TTL sweeper. Raises :class:`ConfigError` for a bad ``store`` section."""
    settings = parse_store_config(project)
    index = index_config(project, settings.index) if settings.index else None
    await setup_store_tables(pool, index)
    store = Store(pool, index=index, ttl=settings.ttl)  # type: ignore[arg-type]
    await store.start_ttl_sweeper()
    return store


async def close_store(store: AsyncPostgresStore) -> None:
    """Stop the TTL sweeper (before the pool closes)."""
    await store.stop_ttl_sweeper(timeout=5.0)
