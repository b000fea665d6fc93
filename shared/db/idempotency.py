"""Queries on ``idempotency_keys``: one run per ``Idempotency-Key`` within a scope."""

from __future__ import annotations

import uuid

import asyncpg


async def reserve(
    conn: asyncpg.Connection, scope: str, key: str, request_hash: str, run_id: uuid.UUID
) -> asyncpg.Record | None:
    """Bind ``(scope, key)`` to ``run_id`` inside the caller's transaction.

    Returns ``None`` when the key is new (bound now), else the existing ``run_id`` and
    ``request_hash``. A concurrent transaction binding the same key makes this wait until it
    commits or rolls back, so concurrent duplicates never both create a run.
    """
    bound = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, request_hash, run_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING run_id""",
        scope,
        key,
        request_hash,
        run_id,
    )
    if bound is not None:
        return None
    return await conn.fetchrow(
        "SELECT run_id, request_hash FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )


async def delete_older_than(pool: asyncpg.Pool, seconds: float) -> int:
    """Forget keys bound more than ``seconds`` ago; returns how many."""
    status = await pool.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        seconds,
    )
    return int(status.split()[-1])
