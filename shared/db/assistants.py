"""Queries on ``assistants`` and ``assistant_versions``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

ASSISTANT_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, description, version,"
    " created_at, updated_at"
)


def assistant_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """An ``assistants`` row as the API's Assistant object."""
    return {k: row[k] for k in ASSISTANT_COLUMNS.replace(" ", "").split(",")}


async def get(
    conn: asyncpg.Pool | asyncpg.Connection, assistant_id: uuid.UUID
) -> asyncpg.Record | None:
    """One assistant at its current version."""
    return await conn.fetchrow(
        f"SELECT {ASSISTANT_COLUMNS} FROM assistants WHERE assistant_id = $1", assistant_id
    )


async def ensure_system_assistants(
    pool: asyncpg.Pool, graphs: dict[uuid.UUID, tuple[str, str | None]]
) -> None:
    """Create the default assistant of each graph (id → (graph_id, description)) if missing."""
    async with pool.acquire() as conn, conn.transaction():
        for assistant_id, (graph_id, description) in graphs.items():
            inserted = await conn.fetchval(
                """INSERT INTO assistants (assistant_id, graph_id, metadata, name, description)
                   VALUES ($1, $2, '{"created_by": "system"}', $2, $3)
                   ON CONFLICT (assistant_id) DO NOTHING RETURNING assistant_id""",
                assistant_id,
                graph_id,
                description,
            )
            if inserted:
                await conn.execute(
                    """INSERT INTO assistant_versions (assistant_id, version, graph_id, metadata,
                           name, description)
                       VALUES ($1, 1, $2, '{"created_by": "system"}', $2, $3)""",
                    assistant_id,
                    graph_id,
                    description,
                )
