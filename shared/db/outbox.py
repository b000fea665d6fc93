"""Queries on ``webhook_deliveries`` (the outbox) and ``webhook_attempts``.

A delivery is queued by the statement that ends its run (:func:`enqueue_sql` is spliced into
``shared.db.runs``), so it exists exactly when the run's end is committed. Deliverers claim due
rows with ``FOR UPDATE SKIP LOCKED`` under a lease and a claim token; a row whose lease expired
(its deliverer died) is claimable again and its lost attempt is recorded. Every write of an
attempt's outcome is guarded by the claim token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

ENDED_RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs,"
    " multitask_strategy, attempt, started_at, ended_at, error, tenant_id, request_context"
)
"""What a run-ending statement must return (plus ``"values"``) for :func:`enqueue_sql`."""


def enqueue_sql(source: str) -> str:
    """SQL of a data-modifying CTE queuing one delivery per run of ``source`` whose
    ``kwargs.webhook`` is set. ``source`` is a CTE name or a parenthesised subquery with
    :data:`ENDED_RUN_COLUMNS` and ``"values"`` (the thread's final values)."""
    return f"""INSERT INTO webhook_deliveries (url, {ENDED_RUN_COLUMNS}, "values")
               SELECT ended.kwargs->>'webhook', {ENDED_RUN_COLUMNS}, "values"
               FROM {source} AS ended
               WHERE coalesce(ended.kwargs->>'webhook', '') <> ''"""


async def claim(
    pool: asyncpg.Pool, limit: int, lease_seconds: float, max_attempts: int
) -> list[asyncpg.Record]:
    """Claim up to ``limit`` due deliveries (pending and due, or with an expired lease) with a
    fresh claim token; each claim is the next attempt (``delivery_attempts`` counts them).

    An expired lease's attempt is recorded as ``lost``; a delivery whose lost attempt was its
    last is marked ``failed`` instead of claimed. Returns the claimed rows (all columns).
    """
    return await pool.fetch(
        """WITH c AS (
               SELECT delivery_id FROM webhook_deliveries
               WHERE (state = 'pending' AND next_attempt_at <= now())
                  OR (state = 'delivering' AND lease_expires_at < now())
               ORDER BY next_attempt_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED),
           lost AS (
               INSERT INTO webhook_attempts (delivery_id, attempt, sent_at, error, outcome)
               SELECT d.delivery_id, d.delivery_attempts, d.claimed_at,
                      'the deliverer stopped responding during the attempt (lease expired)',
                      'lost'
               FROM webhook_deliveries d JOIN c USING (delivery_id)
               WHERE d.state = 'delivering'
               ON CONFLICT DO NOTHING),
           u AS (
               UPDATE webhook_deliveries d SET
                   state = CASE WHEN d.state = 'delivering' AND d.delivery_attempts >= $3
                                THEN 'failed' ELSE 'delivering' END,
                   finished_at = CASE WHEN d.state = 'delivering' AND d.delivery_attempts >= $3
                                      THEN now() END,
                   delivery_attempts = CASE WHEN d.state = 'delivering'
                                             AND d.delivery_attempts >= $3
                                            THEN d.delivery_attempts
                                            ELSE d.delivery_attempts + 1 END,
                   claim_token = gen_random_uuid(), claimed_at = now(),
                   lease_expires_at = now() + make_interval(secs => $2)
               FROM c WHERE d.delivery_id = c.delivery_id
               RETURNING d.*)
           SELECT * FROM u WHERE state = 'delivering'""",
        limit,
        lease_seconds,
        max_attempts,
    )


async def record_attempt(
    pool: asyncpg.Pool,
    row: asyncpg.Record,
    *,
    sent_at: datetime,
    status_code: int | None,
    latency_ms: float,
    error: str | None,
    outcome: str,
    retry_in_seconds: float,
) -> None:
    """Record the attempt ``row`` was claimed for and move the delivery on: ``delivered``,
    ``failed``, or (``retry``) back to pending, due in ``retry_in_seconds``.

    The attempt is always recorded (the request was made); the delivery changes only while
    ``row``'s claim token still holds it.
    """
    await pool.execute(
        """WITH d AS (
               UPDATE webhook_deliveries SET
                   state = CASE $6 WHEN 'retry' THEN 'pending' ELSE $6 END,
                   next_attempt_at = now() + make_interval(secs => $8),
                   finished_at = CASE WHEN $6 = 'retry' THEN NULL ELSE now() END,
                   claim_token = NULL, lease_expires_at = NULL
               WHERE delivery_id = $1 AND claim_token = $7 AND state = 'delivering')
           INSERT INTO webhook_attempts
               (delivery_id, attempt, sent_at, status_code, latency_ms, error, outcome)
           VALUES ($1, $2, $3, $4, $5, $9, $6)
           ON CONFLICT DO NOTHING""",
        row["delivery_id"],
        row["delivery_attempts"],
        sent_at,
        status_code,
        latency_ms,
        outcome,
        row["claim_token"],
        retry_in_seconds,
        error,
    )


async def release(pool: asyncpg.Pool, row: asyncpg.Record) -> None:
    """Hand a claimed delivery back unattempted (deliverer shutdown): pending, due now."""
    await pool.execute(
        """UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(),
               delivery_attempts = delivery_attempts - 1, claim_token = NULL,
               lease_expires_at = NULL
           WHERE delivery_id = $1 AND claim_token = $2 AND state = 'delivering'""",
        row["delivery_id"],
        row["claim_token"],
    )


async def expire_leases(pool: asyncpg.Pool) -> None:
    """End every delivery lease now, for a process that owns its database alone (a restart of
    ``lg-deploy dev``): no live deliverer can hold one, so their attempts count as lost."""
    await pool.execute(
        "UPDATE webhook_deliveries SET lease_expires_at = '-infinity' WHERE state = 'delivering'"
    )


async def seconds_until_due(pool: asyncpg.Pool) -> float | None:
    """Seconds (by the database clock) until the next delivery is due or the next lease
    expires; ``None`` when nothing waits."""
    value = await pool.fetchval(
        """SELECT extract(epoch FROM least(
               (SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'),
               (SELECT min(lease_expires_at) FROM webhook_deliveries
                WHERE state = 'delivering')) - now())"""
    )
    return None if value is None else float(value)


async def purge_finished(pool: asyncpg.Pool, older_than_seconds: float) -> int:
    """Delete delivered and failed deliveries (and their attempts) finished longer ago than
    ``older_than_seconds``; returns how many."""
    done = await pool.execute(
        """DELETE FROM webhook_deliveries WHERE state IN ('delivered', 'failed')
           AND finished_at < now() - make_interval(secs => $1)""",
        older_than_seconds,
    )
    return int(done.split()[-1])


async def deliveries_of_run(
    pool: asyncpg.Pool, thread_id: uuid.UUID, run_id: uuid.UUID, tenant_id: str
) -> list[dict[str, Any]]:
    """The deliveries of a run of ``tenant_id`` with their attempts (oldest first), as API
    objects."""
    deliveries = await pool.fetch(
        """SELECT delivery_id, run_id, thread_id, url, state AS status,
               ended_at AS created_at, finished_at,
               CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at
           FROM webhook_deliveries WHERE run_id = $1 AND thread_id = $2 AND tenant_id = $3
           ORDER BY ended_at""",
        run_id,
        thread_id,
        tenant_id,
    )
    attempts = await pool.fetch(
        """SELECT delivery_id, attempt, sent_at, status_code, latency_ms, error, outcome
           FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY attempt""",
        [d["delivery_id"] for d in deliveries],
    )
    out = []
    for delivery in deliveries:
        mine = [dict(a) for a in attempts if a["delivery_id"] == delivery["delivery_id"]]
        for attempt in mine:
            del attempt["delivery_id"]
        out.append({**dict(delivery), "attempts": mine})
    return out
