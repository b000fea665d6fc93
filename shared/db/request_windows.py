"""Queries on ``tenant_request_windows``: each tenant's request count in the current fixed
window, shared by every intake replica.

Replicas do not ask once per request: :func:`take` grants a replica a batch of requests at
once, which it spends from memory (:mod:`shared.services.rate_limit`). So that batches held
by replicas waste little of the quota, a grant never exceeds :data:`GRANT_SHARE`-th of what is
left in the window (at least one request while any is left): near the limit every request is
granted alone, exactly.
"""

from __future__ import annotations

import asyncpg

GRANT_SHARE = 8
"""A grant is at most ``1/GRANT_SHARE`` of the requests left in the tenant's window."""

_GRANT = f"greatest(0, least($3, $4 - b.base, greatest(1, ($4 - b.base) / {GRANT_SHARE})))"

_TAKE = f"""INSERT INTO tenant_request_windows AS w (tenant_id, window_no, used, granted)
            SELECT $1, n.no, g.grant, g.grant
            FROM (SELECT floor(extract(epoch FROM now()) / $2)::bigint AS no) n,
                 (SELECT 0 AS base) b,
                 LATERAL (SELECT {_GRANT} AS grant) g
            ON CONFLICT (tenant_id) DO UPDATE SET (window_no, used, granted) = (
                SELECT excluded.window_no, b.base + g.grant, g.grant
                FROM (SELECT CASE WHEN w.window_no = excluded.window_no THEN w.used
                                  ELSE 0 END AS base) b,
                     LATERAL (SELECT {_GRANT} AS grant) g)
            RETURNING used, granted,
                (window_no + 1) * $2 - extract(epoch FROM now())::float8 AS seconds_left"""


async def take(
    pool: asyncpg.Pool, tenant_id: str, window_seconds: int, wanted: int, limit: int
) -> asyncpg.Record:
    """Grant up to ``wanted`` requests of ``tenant_id``'s current window of ``window_seconds``
    (windows start at multiples of it since the epoch, by PostgreSQL's clock) under ``limit``
    requests per window, in one statement.

    Returns ``granted`` (0: the window is used up), ``used`` (the tenant's grants in this window
    so far, all replicas) and ``seconds_left`` (until the window ends).
    """
    return await pool.fetchrow(_TAKE, tenant_id, window_seconds, wanted, limit)
