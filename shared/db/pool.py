"""Connection pools: asyncpg for lg-deploy's tables, psycopg for the LangGraph checkpointer.

langgraph-checkpoint-postgres needs psycopg connections with ``autocommit=True``,
``prepare_threshold=0`` and ``dict_row``; everything else uses asyncpg.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from shared.serde import dumps_str

DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""Errors of a database that is down, restarting or refusing (``TimeoutError`` is an
``OSError``): the operation may succeed if retried later."""


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Returned to the pool: end a transaction left open; nothing else needs resetting (pool
    connections hold no session state: no SET, LISTEN or advisory locks)."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=dumps_str, decoder=orjson.loads, schema="pg_catalog"
        )


async def _configure_psycopg(conn: AsyncConnection[Any]) -> None:
    """JSON read with orjson, as asyncpg reads it: ``jsonb`` keeps a number such as ``1e300``
    as the integer ``1000…0``, which ``json.loads`` (psycopg's default) would return as a
    Python ``int`` no JSON encoder takes; orjson returns the float."""
    set_json_loads(orjson.loads, conn)


@dataclass
class Database:
    """Both pools of one process. Create with :func:`open_database`; close with :meth:`close`."""

    dsn: str
    pool: asyncpg.Pool
    checkpoint_pool: AsyncConnectionPool

    async def close(self) -> None:
        """Close both pools; waits for connections in use to come back."""
        await self.checkpoint_pool.close()
        await self.pool.close()


async def open_database(dsn: str, *, pool_size: int, checkpoint_pool_size: int) -> Database:
    """Open both pools on ``dsn`` (a libpq URI). Raises ``OSError``/``asyncpg`` errors if down."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=2,
        max_size=pool_size,
        init=_init_connection,
        reset=_reset_connection,
        command_timeout=60,
    )
    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    cp_pool = AsyncConnectionPool(
        dsn,
        min_size=2,
        max_size=checkpoint_pool_size,
        kwargs=kwargs,
        configure=_configure_psycopg,
        open=False,
    )
    await cp_pool.open(wait=True)
    return Database(dsn=dsn, pool=pool, checkpoint_pool=cp_pool)
