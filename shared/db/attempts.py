"""Queries on ``run_attempts``: one row per executor attempt of a run (opened by the claim)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def end(
    pool: asyncpg.Pool, run_id: uuid.UUID, attempt: int, outcome: str, error: Any = None
) -> float | None:
    """Close attempt ``attempt`` of a run with ``outcome`` (success, error, timeout,
    interrupted, retry, released) and its error, if any; returns its duration in seconds
    (``None`` when it was closed already)."""
    seconds = await pool.fetchval(
        """UPDATE run_attempts SET outcome = $3, error = $4, ended_at = now()
           WHERE run_id = $1 AND attempt = $2 AND outcome = 'running'
           RETURNING extract(epoch FROM ended_at - started_at)::float8""",
        run_id,
        attempt,
        outcome,
        error,
    )
    return float(seconds) if seconds is not None else None


async def list_for_run(pool: asyncpg.Pool, run_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every attempt of a run, oldest first, as API objects."""
    rows = await pool.fetch(
        "SELECT attempt, executor_id, started_at, ended_at, outcome, error FROM run_attempts"
        " WHERE run_id = $1 ORDER BY attempt",
        run_id,
    )
    return [dict(r) for r in rows]
