"""Queries on ``assistants`` and ``assistant_versions``.

An assistant row holds its current version; every version (the first included) is also a row
of ``assistant_versions``. Source: Agent Server API, "Assistants" and "Assistant versioning".
"""

from __future__ import annotations

import uuid
from dataclasses import astuple, dataclass
from typing import Any

import asyncpg

ASSISTANT_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, description, version,"
    " created_at, updated_at"
)
VERSION_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, description, version, created_at"
)
# the WHERE clause of a Filter, whose params are $1, $2, $3
FILTER_SQL = """($1::text IS NULL OR graph_id = $1)
    AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
    AND ($3::jsonb IS NULL OR metadata @> $3)"""


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
    """Which assistants match: ``graph_id`` equal, ``name`` a case-insensitive substring,
    ``metadata`` contained in theirs; ``None`` matches any."""

    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None

    def params(self) -> tuple[str | None, str | None, dict[str, Any] | None]:
        """The parameters ``$1, $2, $3`` of ``FILTER_SQL``."""
        return self.graph_id, self.name, self.metadata


def assistant_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """An ``assistants`` row as the API's Assistant object."""
    return {k: row[k] for k in ASSISTANT_COLUMNS.replace(" ", "").split(",")}


def version_to_api(row: asyncpg.Record) -> dict[str, Any]:
    """An ``assistant_versions`` row as the API's AssistantVersion object."""
    return dict(row)


async def get(
    conn: asyncpg.Pool | asyncpg.Connection, assistant_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """One assistant at its current version; ``for_update`` locks the row."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE assistant_id = $1{lock}", assistant_id
    )


async def insert(
    conn: asyncpg.Pool | asyncpg.Connection, assistant_id: uuid.UUID, fields: Fields
) -> asyncpg.Record | None:
    """Insert an assistant and its version 1 (one statement); ``None`` if the id exists."""
    return await conn.fetchrow(
        f"""WITH a AS (
                INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name,
                                        description)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (assistant_id) DO NOTHING RETURNING *),
            v AS (
                INSERT INTO assistant_versions (assistant_id, version, graph_id, config, context,
                                                metadata, name, description, created_at)
                SELECT assistant_id, 1, graph_id, config, context, metadata, name, description,
                       created_at FROM a)
            SELECT {ASSISTANT_COLUMNS} FROM a""",
        assistant_id,
        *astuple(fields),
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
    conn: asyncpg.Connection, assistant_id: uuid.UUID, *, with_threads: bool
) -> list[uuid.UUID] | None:
    """Delete an assistant with all its versions; ``None`` if it does not exist.

    ``with_threads`` also deletes the threads whose ``metadata.assistant_id`` is this assistant
    (their runs go with them) and returns their ids, so their checkpoints can be deleted.
    Call in a transaction.
    """
    deleted = await conn.fetchval(
        "DELETE FROM assistants WHERE assistant_id = $1 RETURNING assistant_id", assistant_id
    )
    if deleted is None:
        return None
    if not with_threads:
        return []
    rows = await conn.fetch(
        "DELETE FROM threads WHERE metadata @> $1 RETURNING thread_id",
        {"assistant_id": str(assistant_id)},
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
    return await conn.fetch(
        f"""SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE {FILTER_SQL}
            ORDER BY {sort_by} {direction}, assistant_id {direction} LIMIT $4 OFFSET $5""",
        *where.params(),
        limit,
        offset,
    )


async def count(conn: asyncpg.Pool | asyncpg.Connection, where: Filter) -> int:
    """How many assistants match ``where``."""
    return int(
        await conn.fetchval(f"SELECT count(*) FROM assistants WHERE {FILTER_SQL}", *where.params())
    )


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
            if await insert(conn, assistant_id, fields) is not None:
                continue
            row = await get(conn, assistant_id, for_update=True)
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
