"""Queries on ``tenant_limits`` (the per-tenant overrides of the ``LG_DEPLOY_TENANT_*``
defaults) and the counts they bound: a tenant's queued runs, running runs and open streams.

A column left ``NULL`` means the default applies (migration ``0012_limits.sql``).
"""

from __future__ import annotations

from typing import Any

import asyncpg

LIMIT_COLUMNS = ("max_running_runs", "max_queued_runs", "requests_per_window", "max_streams")
"""The overridable limits, as columns of ``tenant_limits`` (and fields of the limits API)."""


async def get(pool: asyncpg.Pool | asyncpg.Connection, tenant_id: str) -> asyncpg.Record | None:
    """The tenant's overrides (:data:`LIMIT_COLUMNS` and ``updated_at``), ``None`` when it has
    none."""
    return await pool.fetchrow(
        f"SELECT {', '.join(LIMIT_COLUMNS)}, updated_at FROM tenant_limits WHERE tenant_id = $1",
        tenant_id,
    )


async def put(pool: asyncpg.Pool, tenant_id: str, values: dict[str, int | None]) -> asyncpg.Record:
    """Replace the tenant's overrides with ``values`` (every :data:`LIMIT_COLUMNS` key; ``None``:
    the default); returns the stored row as :func:`get` does."""
    args: list[Any] = [tenant_id, *(values[c] for c in LIMIT_COLUMNS)]
    columns = ", ".join(LIMIT_COLUMNS)
    params = ", ".join(f"${i}" for i in range(2, len(LIMIT_COLUMNS) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in LIMIT_COLUMNS)
    return await pool.fetchrow(
        f"""INSERT INTO tenant_limits (tenant_id, {columns}) VALUES ($1, {params})
            ON CONFLICT (tenant_id) DO UPDATE SET {updates}, updated_at = now()
            RETURNING {columns}, updated_at""",
        *args,
    )


async def usage(pool: asyncpg.Pool, tenant_id: str) -> asyncpg.Record:
    """What the tenant uses now: ``running_runs``, ``queued_runs`` (pending) and
    ``open_streams`` (unexpired stream leases)."""
    return await pool.fetchrow(
        """SELECT
               (SELECT count(*) FROM runs WHERE tenant_id = $1 AND status = 'running')
                   AS running_runs,
               (SELECT count(*) FROM runs WHERE tenant_id = $1 AND status = 'pending')
                   AS queued_runs,
               (SELECT count(*) FROM stream_leases WHERE tenant_id = $1 AND expires_at > now())
                   AS open_streams""",
        tenant_id,
    )


def queue_full_sql(tenant_id: str, default_max: str) -> str:
    """An SQL condition: tenant ``tenant_id`` has as many pending runs as its queued-runs
    limit allows (its override, else ``default_max``; a NULL limit: never). The arguments are
    SQL expressions (e.g. ``"$12"``). The count stops at the limit, so it costs at most that
    many index entries."""
    cap = f"""coalesce((SELECT max_queued_runs FROM tenant_limits
                          WHERE tenant_id = {tenant_id}), {default_max}::integer)"""
    return f"""CASE WHEN {cap} IS NULL THEN false ELSE (SELECT count(*) FROM (
                   SELECT 1 FROM runs WHERE tenant_id = {tenant_id} AND status = 'pending'
                   LIMIT {cap}) q) >= {cap} END"""


async def queued_limit(conn: asyncpg.Connection, tenant_id: str, default_max: int | None) -> Any:
    """The tenant's queued-runs limit: its override, else ``default_max`` (``None``: none)."""
    return await conn.fetchval(
        """SELECT coalesce((SELECT max_queued_runs FROM tenant_limits WHERE tenant_id = $1),
                           $2::integer)""",
        tenant_id,
        default_max,
    )


async def running_caps_exist(pool: asyncpg.Pool) -> bool:
    """Whether some tenant has a running-runs override (claims must then take turns)."""
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM tenant_limits WHERE max_running_runs IS NOT NULL)"
        )
    )
