"""Apply numbered ``migrations/NNNN_name.sql`` files in order, once each.

Applied versions are kept in ``lgd_migrations``; an advisory lock makes concurrent starters
(several intakes and executors at once) apply each file exactly once. The checkpointer's and
store's own tables are created by langgraph-checkpoint-postgres's ``setup()``.
"""

from __future__ import annotations

import asyncio
from importlib import resources

import asyncpg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
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


async def setup_checkpointer_tables(pool: AsyncConnectionPool) -> None:
    """Create langgraph-checkpoint-postgres's tables (idempotent, outside any transaction)."""
    async with pool.connection() as conn:
        # polled, not waited for: setup() creates indexes CONCURRENTLY, which waits for every
        # open transaction, a starter blocked in pg_advisory_lock included (a deadlock)
        while True:
            cur = await conn.execute("SELECT 1 WHERE pg_try_advisory_lock(%s)", (_LOCK_KEY + 1,))
            if await cur.fetchone() is not None:
                break
            await asyncio.sleep(0.05)
        try:
            await AsyncPostgresSaver(conn).setup()  # type: ignore[arg-type]
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY + 1,))
