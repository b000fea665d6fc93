"""Queries on ``tenants``: the organisations (or projects) that own rows and API keys."""

from __future__ import annotations

import asyncpg

TENANT_COLUMNS = "tenant_id, name, created_at"


async def create(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: str, name: str
) -> asyncpg.Record | None:
    """Insert tenant ``tenant_id``; its row, or ``None`` when it exists already."""
    return await conn.fetchrow(
        f"""INSERT INTO tenants (tenant_id, name) VALUES ($1, $2)
            ON CONFLICT DO NOTHING RETURNING {TENANT_COLUMNS}""",
        tenant_id,
        name,
    )


async def list_tenants(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: str | None = None
) -> list[asyncpg.Record]:
    """Every tenant (or only ``tenant_id``), oldest first."""
    return await conn.fetch(
        f"""SELECT {TENANT_COLUMNS} FROM tenants
            WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, tenant_id""",
        tenant_id,
    )
