"""Queries on ``threads``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

THREAD_COLUMNS = (
    'thread_id, created_at, updated_at, state_updated_at, metadata, status, config, "values",'
    " interrupts, error"
)


def thread_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A ``threads`` row as the API's Thread object (``error`` only when set)."""
    out = {
        "thread_id": row["thread_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "state_updated_at": row["state_updated_at"],
        "metadata": row["metadata"],
        "status": row["status"],
        "config": row["config"],
        "values": row["values"] if row["values"] is not None else {},
        "interrupts": row["interrupts"],
    }
    if row["error"] is not None:
        out["error"] = row["error"]
    return out


async def get(
    conn: asyncpg.Pool | asyncpg.Connection, thread_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """One thread (temporary ones included); ``for_update`` locks the row."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {THREAD_COLUMNS}, temporary FROM threads WHERE thread_id = $1{lock}", thread_id
    )


async def insert(
    conn: asyncpg.Pool | asyncpg.Connection,
    thread_id: uuid.UUID,
    metadata: dict[str, Any],
    *,
    status: str = "idle",
    temporary: bool = False,
) -> asyncpg.Record | None:
    """Insert a thread; ``None`` when ``thread_id`` exists already."""
    return await conn.fetchrow(
        f"""INSERT INTO threads (thread_id, metadata, status, temporary) VALUES ($1, $2, $3, $4)
            ON CONFLICT (thread_id) DO NOTHING RETURNING {THREAD_COLUMNS}, temporary""",
        thread_id,
        metadata,
        status,
        temporary,
    )


async def mark_busy(
    conn: asyncpg.Connection, thread_id: uuid.UUID, metadata_patch: dict[str, Any]
) -> None:
    """Set a thread ``busy`` and merge ``metadata_patch`` into its metadata."""
    await conn.execute(
        "UPDATE threads SET status = 'busy', metadata = metadata || $2, updated_at = now()"
        " WHERE thread_id = $1",
        thread_id,
        metadata_patch,
    )


async def delete_ended_temporary(pool: asyncpg.Pool, grace_seconds: float) -> list[uuid.UUID]:
    """Delete stateless runs' threads whose runs all ended ``grace_seconds`` ago."""
    rows = await pool.fetch(
        """DELETE FROM threads t WHERE t.temporary AND NOT EXISTS (
               SELECT 1 FROM runs r WHERE r.thread_id = t.thread_id
                 AND (r.ended_at IS NULL OR r.ended_at > now() - make_interval(secs => $1)))
           RETURNING thread_id""",
        grace_seconds,
    )
    return [r["thread_id"] for r in rows]
