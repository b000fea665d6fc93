"""Queries on ``stream_leases``: one row per open stream of a tenant with a stream limit.

A lease holds one of the tenant's numbered slots (``0 … limit-1``); the primary key
``(tenant_id, slot)`` makes a slot one stream's, so concurrent opens on any number of
replicas never exceed the limit. An expired lease (its intake stopped renewing it: it
crashed, or lost PostgreSQL) frees its slot for the next open.
"""

from __future__ import annotations

import uuid

import asyncpg

_LIVE = "x.tenant_id = $1 AND x.expires_at > now()"

# the lowest free slot is 0 or follows a held one: candidates cost one per held lease
_ACQUIRE = f"""WITH free AS (
                  SELECT s.slot FROM (
                      SELECT 0 AS slot
                      UNION ALL SELECT x.slot + 1 FROM stream_leases x WHERE {_LIVE}) s
                  WHERE s.slot < $3
                    AND NOT EXISTS (SELECT 1 FROM stream_leases x
                                    WHERE {_LIVE} AND x.slot = s.slot)
                  ORDER BY s.slot LIMIT 1),
              taken AS (
                  INSERT INTO stream_leases AS l (tenant_id, slot, lease_id, expires_at)
                  SELECT $1, slot, $2, now() + make_interval(secs => $4) FROM free
                  ON CONFLICT (tenant_id, slot) DO UPDATE
                      SET lease_id = excluded.lease_id, expires_at = excluded.expires_at
                      WHERE l.expires_at <= now()
                  RETURNING slot)
              SELECT EXISTS (SELECT 1 FROM free) AS free, EXISTS (SELECT 1 FROM taken) AS taken"""


async def acquire(
    pool: asyncpg.Pool, tenant_id: str, lease_id: uuid.UUID, limit: int, lease_seconds: float
) -> bool | None:
    """Take a free slot among ``tenant_id``'s first ``limit`` for ``lease_id``, for
    ``lease_seconds``: ``True`` taken, ``False`` every slot is held, ``None`` a concurrent open
    took the free slot first (try again)."""
    row = await pool.fetchrow(_ACQUIRE, tenant_id, lease_id, limit, lease_seconds)
    if row["taken"]:
        return True
    return None if row["free"] else False


async def renew(pool: asyncpg.Pool, lease_ids: list[uuid.UUID], lease_seconds: float) -> None:
    """Extend ``lease_ids`` to ``lease_seconds`` from now (those still held)."""
    await pool.execute(
        """UPDATE stream_leases SET expires_at = now() + make_interval(secs => $2)
           WHERE lease_id = ANY($1)""",
        lease_ids,
        lease_seconds,
    )


async def release(pool: asyncpg.Pool, lease_id: uuid.UUID) -> None:
    """Free ``lease_id``'s slot."""
    await pool.execute("DELETE FROM stream_leases WHERE lease_id = $1", lease_id)
