"""Queries on ``builds``: record a requested build once per CloudEvent, move it through
``queued → running → succeeded | failed`` with guarded updates, and read it back.

A row is found again by its CloudEvent (``event_source``, ``event_id``), so a redelivered
request never makes a second build, and :func:`one_at_a_time` makes two deliveries of one event
take turns. Status changes are ``UPDATE … WHERE status …``: a lost race is a no-op returning
``None``, never a corrupt row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

BUILD_COLUMNS = (
    "build_id, event_source, event_id, repo, ref, config_path, commit, status, error, digest,"
    " graphs, attempts, created_at, updated_at"
)
TERMINAL = frozenset({"succeeded", "failed"})
"""Statuses a build never leaves."""
_LOCK_CLASS = 0x6C6762  # "lgb": advisory locks of builds (two-key form, apart from migrations')


@asynccontextmanager
async def one_at_a_time(
    pool: asyncpg.Pool, event_source: str, event_id: str
) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding the session advisory lock of the CloudEvent (``event_source``,
    ``event_id``), waited for while another delivery of it holds it. The lock ends with the
    block, or with the session if this process dies (a crashed build is not waited for)."""
    async with pool.acquire() as conn:
        try:
            await conn.execute(
                "SELECT pg_advisory_lock($1, hashtext($2))",
                _LOCK_CLASS,
                f"{event_source} {event_id}",
            )
            yield conn
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock_all()")
            except BaseException:
                conn.terminate()  # the session ends, and its lock with it
                raise


async def record(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    build_id: uuid.UUID,
    event_source: str,
    event_id: str,
    repo: str,
    ref: str,
    config_path: str,
) -> asyncpg.Record:
    """Insert a ``queued`` build for the CloudEvent (``event_source``, ``event_id``), or find
    the one it already made; that row."""
    row = await conn.fetchrow(
        f"""INSERT INTO builds (build_id, event_source, event_id, repo, ref, config_path)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (event_source, event_id) DO NOTHING
            RETURNING {BUILD_COLUMNS}""",
        build_id,
        event_source,
        event_id,
        repo,
        ref,
        config_path,
    )
    if row is not None:
        return row
    existing = await conn.fetchrow(
        f"SELECT {BUILD_COLUMNS} FROM builds WHERE event_source = $1 AND event_id = $2",
        event_source,
        event_id,
    )
    if existing is None:  # deleted between the two statements; cannot happen without deletes
        raise LookupError(f"build of event {event_source} {event_id} vanished")
    return existing


async def get(
    conn: asyncpg.Connection | asyncpg.Pool, build_id: uuid.UUID
) -> asyncpg.Record | None:
    """One build, or ``None``."""
    return await conn.fetchrow(f"SELECT {BUILD_COLUMNS} FROM builds WHERE build_id = $1", build_id)


async def start(
    conn: asyncpg.Connection | asyncpg.Pool, build_id: uuid.UUID
) -> asyncpg.Record | None:
    """``queued``/``running`` → ``running`` (a redelivery resumes a build whose handler died),
    counting the attempt; ``None`` when the build has ended. Call it holding
    :func:`one_at_a_time`, or two handlers may work on one build."""
    return await conn.fetchrow(
        f"""UPDATE builds SET status = 'running', attempts = attempts + 1, updated_at = now()
            WHERE build_id = $1 AND status IN ('queued', 'running')
            RETURNING {BUILD_COLUMNS}""",
        build_id,
    )


async def requeue(
    conn: asyncpg.Connection | asyncpg.Pool, build_id: uuid.UUID, error: str
) -> asyncpg.Record | None:
    """``running`` → ``queued`` after a transient failure, keeping its text in ``error``;
    ``None`` when the build is no longer running."""
    return await conn.fetchrow(
        f"""UPDATE builds SET status = 'queued', error = $2, updated_at = now()
            WHERE build_id = $1 AND status = 'running'
            RETURNING {BUILD_COLUMNS}""",
        build_id,
        error,
    )


async def finish(
    conn: asyncpg.Connection | asyncpg.Pool,
    build_id: uuid.UUID,
    *,
    status: str,
    commit: str | None,
    error: str | None = None,
    digest: str | None = None,
    graphs: list[str] | None = None,
) -> asyncpg.Record | None:
    """``running`` → ``status`` (``succeeded`` or ``failed``) with its outcome; ``None`` when
    the build is no longer running (another delivery ended it first)."""
    if status not in TERMINAL:
        raise ValueError(f"cannot finish a build as {status!r}")
    return await conn.fetchrow(
        f"""UPDATE builds SET status = $2, commit = $3, error = $4, digest = $5, graphs = $6,
                updated_at = now()
            WHERE build_id = $1 AND status = 'running'
            RETURNING {BUILD_COLUMNS}""",
        build_id,
        status,
        commit,
        error,
        digest,
        graphs or [],
    )


def build_to_api(row: asyncpg.Record) -> dict[str, Any]:
    """A ``builds`` row as the builder API's Build object (``config_path`` as ``config``)."""
    found = {name.strip(): row[name.strip()] for name in BUILD_COLUMNS.split(",")}
    found["config"] = found.pop("config_path")
    return found
