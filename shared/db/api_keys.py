"""Queries on ``api_keys``: built-in API keys, each of one tenant with one role, stored as the
SHA-256 of the secret (``key_hash``); the secret itself is never stored or returned."""

from __future__ import annotations

import uuid

import asyncpg

KEY_COLUMNS = "key_id, tenant_id, name, role, created_at, revoked_at, last_used_at"


async def create(
    conn: asyncpg.Pool | asyncpg.Connection,
    key_id: uuid.UUID,
    tenant_id: str,
    name: str | None,
    role: str,
    key_hash: bytes,
) -> asyncpg.Record | None:
    """Insert a key; its row (without the hash), or ``None`` when a live key of the tenant has
    that ``name`` already. Raises ``asyncpg.ForeignKeyViolationError`` for an unknown tenant."""
    return await conn.fetchrow(
        f"""INSERT INTO api_keys (key_id, tenant_id, name, role, key_hash)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, name) WHERE revoked_at IS NULL DO NOTHING
            RETURNING {KEY_COLUMNS}""",
        key_id,
        tenant_id,
        name,
        role,
        key_hash,
    )


async def list_keys(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: str | None = None
) -> list[asyncpg.Record]:
    """Every key (or those of ``tenant_id``), revoked ones included, oldest first."""
    return await conn.fetch(
        f"""SELECT {KEY_COLUMNS} FROM api_keys
            WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, key_id""",
        tenant_id,
    )


async def find(
    conn: asyncpg.Pool | asyncpg.Connection, ref: str, tenant_id: str | None = None
) -> list[asyncpg.Record]:
    """The keys ``ref`` names: the key of that id, or the live keys of that name (in
    ``tenant_id`` only, when given)."""
    return await conn.fetch(
        f"""SELECT {KEY_COLUMNS} FROM api_keys
            WHERE (key_id::text = $1 OR (name = $1 AND revoked_at IS NULL))
              AND ($2::text IS NULL OR tenant_id = $2)
            ORDER BY created_at""",
        ref,
        tenant_id,
    )


async def revoke(
    conn: asyncpg.Pool | asyncpg.Connection, key_id: uuid.UUID, tenant_id: str | None = None
) -> asyncpg.Record | None:
    """Revoke key ``key_id`` (of ``tenant_id`` only, when given); its row, ``revoked_at``
    unchanged if it was revoked before; ``None`` when there is no such key."""
    return await conn.fetchrow(
        f"""UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE key_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
            RETURNING {KEY_COLUMNS}""",
        key_id,
        tenant_id,
    )


async def use(conn: asyncpg.Pool | asyncpg.Connection, key_hash: bytes) -> asyncpg.Record | None:
    """The live key whose secret hashes to ``key_hash`` (``key_id, tenant_id, name, role``),
    its ``last_used_at`` set to now; ``None`` when no live key has that hash."""
    return await conn.fetchrow(
        """UPDATE api_keys SET last_used_at = now()
           WHERE key_hash = $1 AND revoked_at IS NULL
           RETURNING key_id, tenant_id, name, role""",
        key_hash,
    )


async def any_exist(conn: asyncpg.Pool | asyncpg.Connection) -> bool:
    """Whether any key was ever created (revoked ones count: revoking every key does not
    reopen a deployment)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM api_keys)"))
