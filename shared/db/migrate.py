"""Apply numbered ``migrations/NNNN_name.sql`` files in order, once each.

Applied versions are kept in ``lgd_migrations``; an advisory lock makes concurrent starters
(several intakes and executors at once) apply each file exactly once. The checkpointer's and
store's own tables are created by langgraph-checkpoint-postgres's ``setup()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import asyncpg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

_LOCK_KEY = 0x6C67_6400  # "lgd\0"


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("shared.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


async def apply_migrations(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations on ``conn``; returns the file names applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS lgd_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM lgd_migrations")}
        for version, name, sql in _migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO lgd_migrations (version, name) VALUES ($1, $2)", version, name
                )
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


@asynccontextmanager
async def _setup_lock(conn: AsyncConnection[Any]) -> AsyncIterator[None]:
    """Hold the lock of langgraph-checkpoint-postgres's ``setup()`` calls on ``conn``.

    Polled, not waited for: ``setup()`` creates indexes CONCURRENTLY, which waits for every
    open transaction, a starter blocked in ``pg_advisory_lock`` included (a deadlock). One lock
    for the checkpointer and the store, so two such index builds never wait for each other.
    """
    while True:
        cur = await conn.execute("SELECT 1 WHERE pg_try_advisory_lock(%s)", (_LOCK_KEY + 1,))
        if await cur.fetchone() is not None:
            break
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY + 1,))


async def setup_checkpointer_tables(pool: AsyncConnectionPool) -> None:
    """Create langgraph-checkpoint-postgres's tables (idempotent, outside any transaction)."""
    async with pool.connection() as conn, _setup_lock(conn):
        await AsyncPostgresSaver(conn).setup()  # type: ignore[arg-type]


_TTL_MINUTES_AS_FLOAT = """DO $$ BEGIN
  IF (SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()
      AND table_name = 'store' AND column_name = 'ttl_minutes') = 'integer' THEN
    ALTER TABLE store ALTER COLUMN ttl_minutes TYPE double precision;
  END IF;
END $$"""


async def setup_store_tables(pool: AsyncConnectionPool, index: PostgresIndexConfig | None) -> None:
    """Create langgraph-checkpoint-postgres's store tables, and with ``index`` its pgvector
    table (idempotent, outside any transaction).

    ``store.ttl_minutes`` is widened from integer to double precision once: the API's ``ttl``
    is a number of minutes, and a refresh re-applies the stored value (0.5 would become 0).
    """
    async with pool.connection() as conn, _setup_lock(conn):
        await AsyncPostgresStore(conn, index=index).setup()  # type: ignore[arg-type]
        await conn.execute(_TTL_MINUTES_AS_FLOAT)
