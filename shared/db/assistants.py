"""Queries on ``assistants`` and ``assistant_versions``.

An assistant row holds its current version; every version (the first included) is also a row
of ``assistant_versions``. Source: Agent Server API, "Assistants" and "Assistant versioning".
A tenant sees its own assistants and the system assistants (``tenant_id`` NULL, one per graph);
only the default tenant may change the system ones (:func:`scope_sql`).
"""

from __future__ import annotations

import uuid
from dataclasses import astuple, dataclass
from typing import Any

import asyncpg

from shared.db.scope import DEFAULT_TENANT, Scope

ASSISTANT_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, description, version,"
    " created_at, updated_at"
)
VERSION_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, description, version, created_at"
)
# the WHERE clause of a Filter, whose params are $1, $2, $3 (then its scope's)
FILTER_SQL = """($1::text IS NULL OR graph_id = $1)
    AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
    AND ($3::jsonb IS NULL OR metadata @> $3)"""


def scope_sql(scope: Scope, args: list[Any], *, write: bool = False) -> str:
    """The condition of ``scope`` on ``assistants``: the tenant's rows, and the system
    assistants for a read, or for a write by the default tenant (the deployment's own)."""
    return scope.where(args, "assistants", shared=not write or scope.tenant_id == DEFAULT_TENANT)


@dataclass
class Fields:
    """What one version of an assistant holds (besides its id and number), in the column
    order of the inserts below."""

    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    name: str
    description: str | None


@dataclass
class Filter:
    """Which assistants within ``scope`` match: ``graph_id`` equal, ``name`` a
    case-insensitive substring, ``metadata`` contained in theirs; ``None`` matches any."""

    scope: Scope
    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None

    def sql(self, args: list[Any]) -> str:
        """The ``WHERE`` condition, its parameters appended to the empty ``args``."""
        args += [self.graph_id, self.name, self.metadata]
        return f"{FILTER_SQL} AND {scope_sql(self.scope, args)}"


def assistant_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """An ``assistants`` row as the API's Assistant object."""
    return {k: row[k] for k in ASSISTANT_COLUMNS.replace(" ", "").split(",")}


def version_to_api(row: asyncpg.Record) -> dict[str, Any]:
    """An ``assistant_versions`` row as the API's AssistantVersion object."""
    return dict(row)


async def get(
    conn: asyncpg.Pool | asyncpg.Connection,
    assistant_id: uuid.UUID,
    scope: Scope,
    *,
    for_update: bool = False,
    write: bool = False,
) -> asyncpg.Record | None:
    """One assistant within ``scope`` at its current version; ``write`` (implied by
    ``for_update``, which also locks the row) finds only assistants ``scope`` may change (see
    :func:`scope_sql`)."""
    lock = " FOR UPDATE" if for_update else ""
    args: list[Any] = [assistant_id]
    where = scope_sql(scope, args, write=write or for_update)
    return await conn.fetchrow(
        f"SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE assistant_id = $1 AND {where}{lock}",
        *args,
    )


async def insert(
    conn: asyncpg.Pool | asyncpg.Connection,
    assistant_id: uuid.UUID,
    tenant_id: str | None,
    fields: Fields,
) -> asyncpg.Record | None:
    """Insert an assistant of ``tenant_id`` (``None``: a system assistant) and its version 1
    (one statement); ``None`` if the id exists (in any tenant)."""
    return await conn.fetchrow(
        f"""WITH a AS (
                INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name,
                                        description, tenant_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (assistant_id) DO NOTHING RETURNING *),
            v AS (
                INSERT INTO assistant_versions (assistant_id, version, graph_id, config, context,
                                                metadata, name, description, created_at)
                SELECT assistant_id, 1, graph_id, config, context, metadata, name, description,
                       created_at FROM a)
            SELECT {ASSISTANT_COLUMNS} FROM a""",
        assistant_id,
        *astuple(fields),
        tenant_id,
    )


async def add_version(
    conn: asyncpg.Connection, assistant_id: uuid.UUID, fields: Fields
) -> asyncpg.Record:
    """Store ``fields`` as the next version number and make it current.

    Call in a transaction holding the assistant's row lock (:func:`get` with ``for_update``).
    """
    version = await conn.fetchval(
        "SELECT max(version) + 1 FROM assistant_versions WHERE assistant_id = $1", assistant_id
    )
    await conn.execute(
        """INSERT INTO assistant_versions (assistant_id, version, graph_id, config, context,
                                           metadata, name, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        assistant_id,
        version,
        *astuple(fields),
    )
    row = await set_latest(conn, assistant_id, version)
    assert row is not None  # the caller holds the row lock: the assistant exists
    return row


async def set_latest(
    conn: asyncpg.Pool | asyncpg.Connection, assistant_id: uuid.UUID, version: int
) -> asyncpg.Record | None:
    """Make stored ``version`` current; ``None`` if the assistant or version does not exist."""
    return await conn.fetchrow(
        f"""UPDATE assistants a SET graph_id = v.graph_id, config = v.config,
                   context = v.context, metadata = v.metadata, name = v.name,
                   description = v.description, version = v.version, updated_at = now()
            FROM assistant_versions v
            WHERE a.assistant_id = $1 AND v.assistant_id = $1 AND v.version = $2
            RETURNING {", ".join("a." + c.strip() for c in ASSISTANT_COLUMNS.split(","))}""",
        assistant_id,
        version,
    )


async def delete(
    conn: asyncpg.Connection, assistant_id: uuid.UUID, scope: Scope, *, with_threads: bool
) -> list[uuid.UUID] | None:
    """Delete an assistant ``scope`` may change, with all its versions; ``None`` if there is
    no such assistant.

    ``with_threads`` also deletes the scope's threads whose ``metadata.assistant_id`` is this
    assistant (their runs go with them) and returns their ids, so their checkpoints can be
    deleted. Call in a transaction.
    """
    args: list[Any] = [assistant_id]
    deleted = await conn.fetchval(
        "DELETE FROM assistants WHERE assistant_id = $1"
        f" AND {scope_sql(scope, args, write=True)} RETURNING assistant_id",
        *args,
    )
    if deleted is None:
        return None
    if not with_threads:
        return []
    args = [{"assistant_id": str(assistant_id)}]
    rows = await conn.fetch(
        f"DELETE FROM threads WHERE metadata @> $1 AND {Scope(scope.tenant_id).where(args)}"
        " RETURNING thread_id",
        *args,
    )
    return [r["thread_id"] for r in rows]


async def search(
    conn: asyncpg.Pool | asyncpg.Connection,
    where: Filter,
    *,
    sort_by: str,
    sort_order: str,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """A page of assistants matching ``where``, ordered by ``sort_by``
    (a column name, validated by the caller) ``asc``/``desc``, ties by ``assistant_id``."""
    direction = "DESC" if sort_order == "desc" else "ASC"
    args: list[Any] = []
    condition = where.sql(args)
    args += [limit, offset]
    return await conn.fetch(
        f"""SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE {condition}
            ORDER BY {sort_by} {direction}, assistant_id {direction}
            LIMIT ${len(args) - 1} OFFSET ${len(args)}""",
        *args,
    )


async def count(conn: asyncpg.Pool | asyncpg.Connection, where: Filter) -> int:
    """How many assistants match ``where``."""
    args: list[Any] = []
    condition = where.sql(args)
    return int(await conn.fetchval(f"SELECT count(*) FROM assistants WHERE {condition}", *args))


async def versions(
    conn: asyncpg.Pool | asyncpg.Connection,
    assistant_id: uuid.UUID,
    *,
    metadata: dict[str, Any] | None,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """A page of an assistant's versions whose metadata contains ``metadata``, newest first."""
    return await conn.fetch(
        f"""SELECT {VERSION_COLUMNS} FROM assistant_versions
            WHERE assistant_id = $1 AND ($2::jsonb IS NULL OR metadata @> $2)
            ORDER BY version DESC LIMIT $3 OFFSET $4""",
        assistant_id,
        metadata,
        limit,
        offset,
    )


@dataclass
class SystemAssistant:
    """What start-up makes of a graph's system assistant."""

    graph_id: str
    name: str
    description: str | None


async def ensure_system_assistants(
    pool: asyncpg.Pool, graphs: dict[uuid.UUID, SystemAssistant]
) -> None:
    """Create the system assistant of each graph (by assistant id) if missing, with
    ``metadata = {"created_by": "system"}``; one whose name or description differs from the
    graph's gets them in a new version, as the official server syncs them at start-up."""
    async with pool.acquire() as conn, conn.transaction():
        for assistant_id, graph in graphs.items():
            fields = Fields(
                graph.graph_id, {}, {}, {"created_by": "system"}, graph.name, graph.description
            )
            if await insert(conn, assistant_id, None, fields) is not None:
                continue
            row = await get(conn, assistant_id, Scope(DEFAULT_TENANT), for_update=True)
            if row is None or (row["name"], row["description"]) == (graph.name, graph.description):
                continue
            current = Fields(
                row["graph_id"],
                row["config"],
                row["context"],
                row["metadata"],
                graph.name,
                graph.description,
            )
            await add_version(conn, assistant_id, current)
