"""Queries on ``audit_log`` (migration 0013): append rows, read a tenant's page.

The table refuses UPDATE, DELETE and TRUNCATE (a trigger), so this module only inserts and
reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from shared.api.audit import AuditEntry, AuditEvent

COLUMNS = tuple(AuditEvent.model_fields)
"""The columns an insert fills, in the model's order (``audit_id`` is generated)."""


async def insert(db: asyncpg.Pool | asyncpg.Connection, events: Sequence[AuditEvent]) -> None:
    """Append ``events`` in one ``COPY`` (one round trip, one transaction: all or none), on a
    connection of ``db`` (a pool) or on ``db`` itself. Raises the database's errors
    (:data:`shared.db.pool.DB_ERRORS`)."""
    records = [tuple(getattr(event, name) for name in COLUMNS) for event in events]
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            await conn.copy_records_to_table("audit_log", records=records, columns=COLUMNS)
    else:
        await db.copy_records_to_table("audit_log", records=records, columns=COLUMNS)


async def search(
    pool: asyncpg.Pool,
    tenant_ids: Sequence[str | None],
    *,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntry], int]:
    """The rows of ``tenant_ids`` (``None`` in it: rows without a tenant) matching the
    filters, newest first (``since`` inclusive, ``until`` exclusive), ``limit`` from
    ``offset``; and how many match in all."""
    args: list[Any] = [[t for t in tenant_ids if t is not None], None in tenant_ids]
    where = ["(tenant_id = ANY($1::text[]) OR ($2 AND tenant_id IS NULL))"]
    filters = (("action =", action), ("occurred_at >=", since), ("occurred_at <", until))
    for test, value in filters:
        if value is not None:
            args.append(value)
            where.append(f"{test} ${len(args)}")
    condition = " AND ".join(where)
    page = f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}"
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT * FROM audit_log WHERE {condition}"
            f" ORDER BY occurred_at DESC, audit_id DESC {page}",
            *args,
            limit,
            offset,
        )
        total = await conn.fetchval(f"SELECT count(*) FROM audit_log WHERE {condition}", *args)
    return [AuditEntry(**dict(row)) for row in rows], int(total)
