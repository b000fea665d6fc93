"""Queries on ``crons`` and ``cron_ticks``: insert, read, search/count, update, delete, and the
tick's claim of due crons (``FOR UPDATE SKIP LOCKED``) with the advance of ``next_run_date``.
A caller's statements take its :class:`~shared.db.scope.Scope`; the tick works on every tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db.scope import Scope

CRON_COLUMNS = (
    "cron_id, assistant_id, thread_id, user_id, schedule, timezone, end_time, payload,"
    " next_run_date, metadata, on_run_completed, enabled, created_at, updated_at"
)
SORT_COLUMNS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "next_run_date",
    "end_time",
    "created_at",
    "updated_at",
)
UPDATABLE = frozenset(
    {"schedule", "timezone", "end_time", "payload", "metadata", "on_run_completed", "enabled"}
)
"""Columns :func:`update` may set (``next_run_date`` is always given with them)."""


def cron_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A ``crons`` row as the API's Cron object."""
    return {name.strip(): row[name.strip()] for name in CRON_COLUMNS.split(",")}


@dataclass(frozen=True)
class Filter:
    """Search and count filters within ``scope``; ``None`` matches any. ``metadata`` is
    matched by containment."""

    scope: Scope
    assistant_id: uuid.UUID | None = None
    thread_id: uuid.UUID | None = None
    metadata: dict[str, Any] | None = None
    enabled: bool | None = None

    def sql(self, args: list[Any]) -> str:
        """The ``WHERE`` condition, its parameters appended to the empty ``args``."""
        args += [self.assistant_id, self.thread_id, self.metadata, self.enabled]
        return f"{_WHERE} AND {self.scope.where(args)}"


_WHERE = """($1::uuid IS NULL OR assistant_id = $1)
    AND ($2::uuid IS NULL OR thread_id = $2)
    AND ($3::jsonb IS NULL OR metadata @> $3)
    AND ($4::boolean IS NULL OR enabled = $4)"""


async def insert(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    cron_id: uuid.UUID,
    tenant_id: str,
    request_context: dict[str, Any],
    assistant_id: uuid.UUID,
    thread_id: uuid.UUID | None,
    schedule: str,
    timezone: str | None,
    end_time: datetime | None,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    on_run_completed: str | None,
    enabled: bool,
    next_run_date: datetime | None,
) -> asyncpg.Record:
    """Insert a cron of ``tenant_id`` made by ``request_context`` (the JSON of a
    :class:`~shared.auth.context.RequestContext`: its runs are created in that name); returns
    its row."""
    return await conn.fetchrow(
        f"""INSERT INTO crons (cron_id, assistant_id, thread_id, schedule, timezone, end_time,
                payload, metadata, on_run_completed, enabled, next_run_date, tenant_id,
                request_context)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            RETURNING {CRON_COLUMNS}""",
        cron_id,
        assistant_id,
        thread_id,
        schedule,
        timezone,
        end_time,
        payload,
        metadata,
        on_run_completed,
        enabled,
        next_run_date,
        tenant_id,
        request_context,
    )


async def get(
    conn: asyncpg.Connection | asyncpg.Pool,
    cron_id: uuid.UUID,
    scope: Scope,
    *,
    for_update: bool = False,
) -> asyncpg.Record | None:
    """One cron within ``scope``; ``for_update`` locks its row."""
    lock = " FOR UPDATE" if for_update else ""
    args: list[Any] = [cron_id]
    where = scope.where(args)
    return await conn.fetchrow(
        f"SELECT {CRON_COLUMNS} FROM crons WHERE cron_id = $1 AND {where}{lock}", *args
    )


async def update(
    conn: asyncpg.Connection,
    cron_id: uuid.UUID,
    changes: dict[str, Any],
    next_run_date: datetime | None,
) -> asyncpg.Record:
    """Set ``changes`` (columns of :data:`UPDATABLE`) and ``next_run_date``; returns the row."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    names = list(changes)
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(names, start=3))
    return await conn.fetchrow(
        f"""UPDATE crons SET next_run_date = $2, updated_at = now(){sets}
            WHERE cron_id = $1 RETURNING {CRON_COLUMNS}""",
        cron_id,
        next_run_date,
        *(changes[name] for name in names),
    )


async def delete(conn: asyncpg.Connection | asyncpg.Pool, cron_id: uuid.UUID, scope: Scope) -> bool:
    """Delete a cron within ``scope``; ``False`` when there is no such cron."""
    args: list[Any] = [cron_id]
    done = await conn.execute(
        f"DELETE FROM crons WHERE cron_id = $1 AND {scope.where(args)}", *args
    )
    return bool(done.endswith(" 1"))


async def search(
    conn: asyncpg.Connection | asyncpg.Pool,
    where: Filter,
    *,
    sort_by: str,
    sort_order: str,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """A page of crons matching ``where``, ordered by ``sort_by`` (one of
    :data:`SORT_COLUMNS`) then ``cron_id``."""
    if sort_by not in SORT_COLUMNS or sort_order not in ("asc", "desc"):
        raise ValueError(f"cannot sort by {sort_by} {sort_order}")
    args: list[Any] = []
    condition = where.sql(args)
    args += [limit, offset]
    return await conn.fetch(
        f"""SELECT {CRON_COLUMNS} FROM crons WHERE {condition}
            ORDER BY {sort_by} {sort_order}, cron_id {sort_order}
            LIMIT ${len(args) - 1} OFFSET ${len(args)}""",
        *args,
    )


async def count(conn: asyncpg.Connection | asyncpg.Pool, where: Filter) -> int:
    """How many crons match ``where``."""
    args: list[Any] = []
    condition = where.sql(args)
    return int(await conn.fetchval(f"SELECT count(*) FROM crons WHERE {condition}", *args))


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Lock up to ``limit`` crons due at ``now`` (enabled, ``next_run_date <= now``, end time
    not passed) that no other transaction holds, most overdue first, with the
    ``request_context`` their runs are made in. Call inside a transaction; the locks last until
    it ends."""
    return await conn.fetch(
        f"""SELECT {CRON_COLUMNS}, request_context FROM crons
            WHERE enabled AND next_run_date <= $1 AND (end_time IS NULL OR end_time >= $1)
            ORDER BY next_run_date LIMIT $2
            FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )


async def set_next_run(
    conn: asyncpg.Connection, cron_id: uuid.UUID, next_run_date: datetime | None
) -> None:
    """Advance a fired cron to its next due time."""
    await conn.execute(
        "UPDATE crons SET next_run_date = $2, updated_at = now() WHERE cron_id = $1",
        cron_id,
        next_run_date,
    )


async def record_tick(conn: asyncpg.Connection, event_key: str) -> bool:
    """Note the tick ``event_key`` as handled; ``False`` when it was already (a redelivery).

    A concurrent delivery of the same key waits here until the first one's transaction ends,
    then finds it recorded (or, if that one rolled back, records it).
    """
    done = await conn.execute(
        "INSERT INTO cron_ticks (event_key) VALUES ($1) ON CONFLICT DO NOTHING", event_key
    )
    return bool(done.endswith(" 1"))


async def forget_ticks(conn: asyncpg.Connection | asyncpg.Pool, keep_seconds: float) -> None:
    """Forget tick keys older than ``keep_seconds`` (skipping rows another tick holds)."""
    await conn.execute(
        """DELETE FROM cron_ticks WHERE event_key IN (
               SELECT event_key FROM cron_ticks
               WHERE received_at < now() - make_interval(secs => $1)
               FOR UPDATE SKIP LOCKED)""",
        keep_seconds,
    )
