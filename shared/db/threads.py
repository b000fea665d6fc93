"""Queries on ``threads``: insert, read, search/count with filters, merge metadata, copy,
delete, and keep a thread's stored state (values, interrupts, status) in step with its graph.

Temporary threads (those of stateless runs) never appear in search or count. Every statement
a caller's request makes takes the caller's :class:`~shared.db.scope.Scope` (``None`` only for
the system's own work: executor, sweeps).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db.scope import Scope

THREAD_COLUMNS = (
    'thread_id, created_at, updated_at, state_updated_at, metadata, status, config, "values",'
    " interrupts, error"
)


def thread_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A ``threads`` row as the API's Thread object, shaped as the official server answers:
    ``values`` null until the thread has state; ``error`` and ``interrupts`` only once its
    state was stored (a run ended, a state update), ``error`` then null unless it failed."""
    out = {
        "thread_id": row["thread_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "state_updated_at": row["state_updated_at"],
        "metadata": row["metadata"],
        "status": row["status"],
        "config": row["config"],
        "values": row["values"],
    }
    if row["interrupts"] is not None or row["error"] is not None:
        out["error"] = row["error"]
        out["interrupts"] = row["interrupts"] or {}
    return out


def _scoped(scope: Scope | None, args: list[Any]) -> str:
    """`` AND <scope>`` for a statement on ``threads`` (nothing when unscoped)."""
    return f" AND {scope.where(args)}" if scope else ""


async def get(
    conn: asyncpg.Pool | asyncpg.Connection,
    thread_id: uuid.UUID,
    scope: Scope | None,
    *,
    for_update: bool = False,
) -> asyncpg.Record | None:
    """One thread (temporary ones included) within ``scope``; ``for_update`` locks the row."""
    lock = " FOR UPDATE" if for_update else ""
    args: list[Any] = [thread_id]
    where = _scoped(scope, args)
    return await conn.fetchrow(
        f"SELECT {THREAD_COLUMNS}, temporary, tenant_id FROM threads"
        f" WHERE thread_id = $1{where}{lock}",
        *args,
    )


async def insert(
    conn: asyncpg.Pool | asyncpg.Connection,
    thread_id: uuid.UUID,
    tenant_id: str,
    metadata: dict[str, Any],
    *,
    status: str = "idle",
    temporary: bool = False,
) -> asyncpg.Record | None:
    """Insert a thread of ``tenant_id``; ``None`` when ``thread_id`` exists already (in any
    tenant: thread ids are global, as checkpoints are keyed by them)."""
    return await conn.fetchrow(
        f"""INSERT INTO threads (thread_id, tenant_id, metadata, status, temporary)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (thread_id) DO NOTHING RETURNING {THREAD_COLUMNS}, temporary""",
        thread_id,
        tenant_id,
        metadata,
        status,
        temporary,
    )


_WITH_CHECKPOINTS = """WITH d AS ({threads}),
    w AS (DELETE FROM checkpoint_writes WHERE thread_id IN (SELECT thread_id::text FROM d)),
    b AS (DELETE FROM checkpoint_blobs WHERE thread_id IN (SELECT thread_id::text FROM d)),
    c AS (DELETE FROM checkpoints WHERE thread_id IN (SELECT thread_id::text FROM d))
    SELECT thread_id FROM d"""
"""A delete of threads (``{threads}``, returning ``thread_id``) that also deletes their
checkpoints, blobs and pending writes (langgraph-checkpoint-postgres' tables, keyed by the
thread id as text): one statement, where ``aprune`` takes three and a transaction."""


async def delete_temporary(
    pool: asyncpg.Pool, read: list[uuid.UUID], ended: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Delete stateless runs' threads whose runs all ended (their runs, events and checkpoints
    go with them): those of ``read`` (their reader answered), and those of ``ended`` (their run
    ended) unless a request reads one of their runs (``runs.awaited``); the ids deleted."""
    rows = await pool.fetch(
        _WITH_CHECKPOINTS.format(
            threads="""DELETE FROM threads t
               WHERE t.temporary AND (t.thread_id = ANY($1) OR t.thread_id = ANY($2))
                 AND NOT EXISTS (
                   SELECT 1 FROM runs r WHERE r.thread_id = t.thread_id
                     AND (r.ended_at IS NULL
                          OR (NOT t.thread_id = ANY($1) AND r.awaited)))
               RETURNING thread_id"""
        ),
        read,
        ended,
    )
    return [r["thread_id"] for r in rows]


async def delete_ended_temporary(
    pool: asyncpg.Pool, reader_grace_seconds: float
) -> list[uuid.UUID]:
    """Delete stateless runs' threads (with their runs, events and checkpoints) whose runs all
    ended, those of runs a client was reading (``runs.awaited``) only ``reader_grace_seconds``
    after the end; the ids."""
    rows = await pool.fetch(
        _WITH_CHECKPOINTS.format(
            threads="""DELETE FROM threads t WHERE t.temporary AND NOT EXISTS (
                   SELECT 1 FROM runs r WHERE r.thread_id = t.thread_id
                     AND (r.ended_at IS NULL
                          OR (r.awaited
                              AND r.ended_at > now() - make_interval(secs => $1))))
               RETURNING thread_id"""
        ),
        reader_grace_seconds,
    )
    return [r["thread_id"] for r in rows]


# Filters shared by search and count ($1 ids, $2 metadata, $3 values, $4 status); None = any.
_FILTER = """NOT temporary
    AND ($1::uuid[] IS NULL OR thread_id = ANY($1))
    AND ($2::jsonb IS NULL OR metadata @> $2)
    AND ($3::jsonb IS NULL OR "values"::jsonb @> $3)
    AND ($4::text IS NULL OR status = $4)"""
SORT_COLUMNS = ("thread_id", "status", "created_at", "updated_at", "state_updated_at")
EXTRACT_COLUMNS = ("values", "metadata", "config", "interrupts")


async def search(
    pool: asyncpg.Pool,
    scope: Scope,
    *,
    ids: list[uuid.UUID] | None,
    metadata: dict[str, Any] | None,
    values: dict[str, Any] | None,
    status: str | None,
    sort_by: str,
    sort_order: str,
    limit: int,
    offset: int,
    extract: Sequence[tuple[str, list[str]]] = (),
) -> list[asyncpg.Record]:
    """One page of non-temporary threads matching the filters (containment for ``metadata``
    and ``values``), ordered by ``sort_by`` (one of :data:`SORT_COLUMNS`).

    ``extract`` is a list of ``(column, path)`` (column in :data:`EXTRACT_COLUMNS`); the value
    at each path comes back as column ``x0``, ``x1``… (``NULL`` where the path is missing).
    """
    if sort_by not in SORT_COLUMNS or sort_order not in ("asc", "desc"):
        raise ValueError(f"cannot sort by {sort_by} {sort_order}")
    params: list[Any] = [ids, metadata, values, status, limit, offset]
    where = _scoped(scope, params)
    extracted = ""
    for i, (column, path) in enumerate(extract):
        if column not in EXTRACT_COLUMNS:
            raise ValueError(f"cannot extract from {column}")
        params.append(path)
        extracted += f', "{column}" #> ${len(params)}::text[] AS x{i}'
    return await pool.fetch(
        f"""SELECT {THREAD_COLUMNS}{extracted} FROM threads WHERE {_FILTER}{where}
            ORDER BY {sort_by} {sort_order}, thread_id {sort_order} LIMIT $5 OFFSET $6""",
        *params,
    )


async def count(
    pool: asyncpg.Pool,
    scope: Scope,
    *,
    ids: list[uuid.UUID] | None = None,
    metadata: dict[str, Any] | None,
    values: dict[str, Any] | None,
    status: str | None,
) -> int:
    """How many non-temporary threads within ``scope`` match the filters of :func:`search`."""
    args: list[Any] = [ids, metadata, values, status]
    where = _scoped(scope, args)
    return int(await pool.fetchval(f"SELECT count(*) FROM threads WHERE {_FILTER}{where}", *args))


async def merge_metadata(
    pool: asyncpg.Pool, thread_id: uuid.UUID, scope: Scope, patch: dict[str, Any]
) -> asyncpg.Record | None:
    """Merge ``patch`` into a thread's metadata (top-level keys); ``None`` if no such thread
    within ``scope``."""
    args: list[Any] = [thread_id, patch]
    where = _scoped(scope, args)
    return await pool.fetchrow(
        f"""UPDATE threads SET metadata = metadata || $2, updated_at = now()
            WHERE thread_id = $1{where} RETURNING {THREAD_COLUMNS}""",
        *args,
    )


async def existing(
    pool: asyncpg.Pool, thread_ids: list[uuid.UUID], scope: Scope
) -> list[uuid.UUID]:
    """Those of ``thread_ids`` that name a thread within ``scope``."""
    args: list[Any] = [thread_ids]
    where = _scoped(scope, args)
    rows = await pool.fetch(
        f"SELECT thread_id FROM threads WHERE thread_id = ANY($1){where}", *args
    )
    return [r["thread_id"] for r in rows]


async def delete(
    conn: asyncpg.Pool | asyncpg.Connection, thread_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Delete threads (their runs go with them: foreign key cascade); returns the ids deleted."""
    rows = await conn.fetch(
        "DELETE FROM threads WHERE thread_id = ANY($1) RETURNING thread_id", thread_ids
    )
    return [r["thread_id"] for r in rows]


async def copy(
    pool: asyncpg.Pool, source_id: uuid.UUID, scope: Scope, target_id: uuid.UUID
) -> asyncpg.Record | None:
    """A new thread ``target_id`` of the same tenant with the metadata, config and stored state
    of ``source_id``.

    A ``busy`` source gives an ``idle`` copy (the copy has no runs). ``None`` if the source
    does not exist within ``scope``.
    """
    args: list[Any] = [source_id, target_id]
    where = _scoped(scope, args)
    return await pool.fetchrow(
        f"""INSERT INTO threads
                (thread_id, tenant_id, metadata, config, "values", interrupts, error, status)
            SELECT $2, tenant_id, metadata, config, "values", interrupts, error,
                   CASE WHEN status = 'busy' THEN 'idle' ELSE status END
            FROM threads WHERE thread_id = $1{where}
            RETURNING {THREAD_COLUMNS}""",
        *args,
    )


async def set_state(
    pool: asyncpg.Pool,
    thread_id: uuid.UUID,
    *,
    values: Any,
    interrupts: dict[str, Any],
    status: str,
) -> asyncpg.Record | None:
    """Store a thread's state after a state update made through the API.

    Left alone (returns ``None``) when the thread is ``busy``: its runs own its state then.
    """
    return await pool.fetchrow(
        f"""UPDATE threads SET "values" = $2, interrupts = $3, status = $4, error = NULL,
                updated_at = now(), state_updated_at = now()
            WHERE thread_id = $1 AND status <> 'busy' RETURNING {THREAD_COLUMNS}""",
        thread_id,
        values,
        interrupts,
        status,
    )


async def settle(conn: asyncpg.Connection, thread_ids: list[uuid.UUID]) -> None:
    """Set the status of threads whose runs changed: ``busy`` while any run is pending or
    running, else what their stored state says (``interrupted``, ``error`` or ``idle``)."""
    await conn.execute(
        """UPDATE threads t SET updated_at = now(), status = CASE
               WHEN EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.thread_id
                            AND r.status IN ('pending', 'running')) THEN 'busy'
               WHEN t.interrupts::jsonb <> '{}'::jsonb THEN 'interrupted'
               WHEN t.error IS NOT NULL THEN 'error'
               ELSE 'idle' END
           WHERE thread_id = ANY($1)""",
        thread_ids,
    )
