"""Queries on ``runs``: insert, claim with a lease, finish, reclaim, cancel, read.

Every transition is one guarded statement (``WHERE status = … AND claim_token = …``), so a
lost race changes nothing. Claims honour per-thread order: a pending run is claimable only when
its thread has no running run and no older pending run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.db.limits import queue_full_sql
from shared.db.outbox import ENDED_RUN_COLUMNS, enqueue_sql
from shared.db.scope import Scope
from shared.serde import serialize_error

RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs,"
    " multitask_strategy, attempt, available_at, awaited"
)
ACTIVE = ("pending", "running")


INTERNAL_KWARGS = frozenset({"context_given"})
"""Keys of a run's stored ``kwargs`` that are lg-deploy's bookkeeping, not run arguments:
left out of the API's Run object."""


def run_to_api(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A ``runs`` row as the API's Run object, in the official server's order
    (``langsmith_session_name`` null: no LangSmith tracing), then lg-deploy's ``attempt``;
    ``kwargs`` without :data:`INTERNAL_KWARGS`."""
    kwargs = row["kwargs"]
    return {
        "run_id": row["run_id"],
        "thread_id": row["thread_id"],
        "assistant_id": row["assistant_id"],
        "metadata": row["metadata"],
        "status": row["status"],
        "kwargs": {k: v for k, v in kwargs.items() if k not in INTERNAL_KWARGS},
        "multitask_strategy": row["multitask_strategy"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "langsmith_session_name": None,
        "attempt": row["attempt"],
    }


async def insert_run(
    conn: asyncpg.Connection,
    *,
    run_id: uuid.UUID,
    thread_id: uuid.UUID,
    assistant_id: uuid.UUID,
    tenant_id: str,
    request_context: dict[str, Any],
    metadata: dict[str, Any],
    kwargs: dict[str, Any],
    multitask_strategy: str,
    after_seconds: float | None,
    awaited: bool,
    thread_metadata: dict[str, Any],
    thread_config: dict[str, Any] | None,
    first_event: str,
    max_queued: int | None,
) -> asyncpg.Record | None:
    """Insert a ``pending`` run of ``tenant_id`` made by ``request_context`` (the JSON of a
    :class:`~shared.auth.context.RequestContext`); ``after_seconds`` delays when it may be
    claimed. Also mark its thread ``busy`` with ``thread_metadata`` merged in and its config
    replaced by ``thread_config`` (``None`` keeps it), and store the run's first stream event
    (``metadata``, seq 1, JSON ``first_event``): one statement. ``awaited``: a request reads
    the run's end (see :func:`mark_awaited`).

    Nothing is written, and ``None`` returned, when the tenant has as many pending runs as
    its queued-runs limit allows (its ``tenant_limits`` override, else ``max_queued``;
    ``None``: no limit): the limit costs no statement of its own."""
    full = queue_full_sql("$12", "$14")
    return await conn.fetchrow(
        f"""WITH r AS (
               INSERT INTO runs (run_id, thread_id, assistant_id, status, metadata, kwargs,
                   multitask_strategy, created_at, available_at, awaited, tenant_id,
                   request_context)
               SELECT $1, $2, $3, 'pending', $4, $5, $6,
                   now() + make_interval(secs => $7), now() + make_interval(secs => $7), $11,
                   $12, $13
               WHERE NOT {full}
               RETURNING {RUN_COLUMNS}),
           t AS (
               UPDATE threads SET status = 'busy', metadata = metadata || $8,
                   config = coalesce($10::json, config), updated_at = now()
               WHERE thread_id = $2 AND EXISTS (SELECT 1 FROM r)),
           e AS (
               INSERT INTO run_events (run_id, seq, event, data)
               SELECT $1, 1, 'metadata', $9 FROM r)
           SELECT * FROM r""",
        run_id,
        thread_id,
        assistant_id,
        metadata,
        kwargs,
        multitask_strategy,
        after_seconds or 0.0,
        thread_metadata,
        first_event,
        thread_config,
        awaited,
        tenant_id,
        request_context,
        max_queued,
    )


async def active_runs(conn: asyncpg.Connection, thread_id: uuid.UUID) -> list[asyncpg.Record]:
    """Pending and running runs of a thread, oldest first (call with the thread row locked)."""
    return await conn.fetch(
        "SELECT run_id, status FROM runs WHERE thread_id = $1"
        " AND status IN ('pending', 'running') ORDER BY seq",
        thread_id,
    )


CLAIM_LOCK = 0x6C67_6401  # "lgd\x01"
"""Advisory lock every claim holds for its transaction: claims take turns, so each one counts
the running runs the previous one left and no tenant exceeds its running-runs limit."""

_CLAIMABLE = """r.status = 'pending' AND r.available_at <= now()
             AND NOT EXISTS (SELECT 1 FROM runs o
                             WHERE o.thread_id = r.thread_id AND o.status = 'running')
             AND NOT EXISTS (SELECT 1 FROM runs o
                             WHERE o.thread_id = r.thread_id AND o.status = 'pending'
                               AND o.seq < r.seq)"""

_CLAIM = f"""WITH RECURSIVE tenants AS (
           SELECT min(tenant_id) AS tenant_id FROM runs WHERE status = 'pending'
         UNION ALL
           SELECT (SELECT min(r.tenant_id) FROM runs r
                   WHERE r.status = 'pending' AND r.tenant_id > t.tenant_id)
           FROM tenants t WHERE t.tenant_id IS NOT NULL)
       , room AS (
           SELECT t.tenant_id, n.running, s.last_claimed_at, m.cap,
                  CASE WHEN m.cap IS NULL THEN $2 ELSE least($2, m.cap - n.running) END AS room
           FROM tenants t
           LEFT JOIN tenant_limits l ON l.tenant_id = t.tenant_id
           LEFT JOIN tenant_claims s ON s.tenant_id = t.tenant_id
           CROSS JOIN LATERAL (SELECT coalesce(l.max_running_runs, $4::integer) AS cap) m
           CROSS JOIN LATERAL (SELECT count(*) AS running FROM runs r
                               WHERE r.tenant_id = t.tenant_id AND r.status = 'running') n
           WHERE t.tenant_id IS NOT NULL)
       , ranked AS (
           SELECT q.tenant_id, q.last_claimed_at, c.available_at, c.seq,
                  q.running + row_number() OVER (PARTITION BY q.tenant_id
                                                 ORDER BY c.available_at, c.seq) AS load
           FROM room q CROSS JOIN LATERAL (
               SELECT r.available_at, r.seq FROM runs r
               WHERE r.tenant_id = q.tenant_id AND {_CLAIMABLE}
               ORDER BY r.available_at, r.seq
               LIMIT q.room) c
           WHERE q.room > 0)
       , share AS (
           SELECT tenant_id, count(*) AS n FROM (
               SELECT tenant_id FROM ranked
               ORDER BY CASE WHEN $5 THEN load END,
                        CASE WHEN $5 THEN last_claimed_at END NULLS FIRST,
                        available_at, seq
               LIMIT $2) picked
           GROUP BY tenant_id)
       , c AS (
           SELECT p.run_id FROM share s CROSS JOIN LATERAL (
               SELECT r.run_id FROM runs r
               WHERE r.tenant_id = s.tenant_id AND {_CLAIMABLE}
               ORDER BY r.available_at, r.seq
               LIMIT s.n
               FOR UPDATE SKIP LOCKED) p)
       , u AS (
           UPDATE runs SET status = 'running', executor_id = $1,
               claim_token = gen_random_uuid(),
               lease_expires_at = now() + make_interval(secs => $3),
               attempt = attempt + 1, started_at = coalesce(started_at, now()),
               updated_at = now()
           WHERE runs.run_id = ANY (ARRAY(SELECT run_id FROM c))
           RETURNING runs.*)
       , served AS (
           INSERT INTO tenant_claims (tenant_id, last_claimed_at)
           SELECT DISTINCT tenant_id, now() FROM u
           ON CONFLICT (tenant_id) DO UPDATE SET last_claimed_at = excluded.last_claimed_at)
       , lost AS (
           UPDATE run_attempts a SET outcome = 'lost', ended_at = now()
           FROM u WHERE a.run_id = u.run_id AND a.outcome = 'running')
       , started AS (
           INSERT INTO run_attempts (run_id, attempt, executor_id)
           SELECT run_id, attempt, $1 FROM u)
       SELECT u.*, q.cap IS NOT NULL AS tenant_capped FROM u JOIN room q USING (tenant_id)"""


async def claim(
    pool: asyncpg.Pool,
    executor_id: str,
    limit: int,
    lease_seconds: float,
    *,
    max_running: int | None = None,
    fair: bool = True,
    exact: bool = True,
) -> list[asyncpg.Record]:
    """Claim up to ``limit`` claimable runs for ``executor_id`` with a fresh claim token.

    A run is claimable when it is pending, due, the oldest pending run of its thread and its
    thread runs nothing. No tenant gets more running runs than its ``tenant_limits``
    override, else ``max_running`` (``None``: no limit). With ``fair`` the slots go to the
    least loaded tenant first (fewest running runs, counting the ones this claim gives it),
    then to the tenant served longest ago, then to the oldest run: a tenant's first run
    waits for no other tenant's queue, however long, beyond this claim. Without ``fair``:
    oldest run first, whatever its tenant.

    Returns the claimed rows (all columns, and ``tenant_capped``: the run's tenant has a
    running-runs limit, so the run's end may let a waiting run of it start). Each claim opens a
    ``run_attempts`` row; an earlier attempt still marked running (its executor was lost) is
    closed as ``lost``. With ``exact`` (some tenant has a running-runs limit) claims take
    turns (:data:`CLAIM_LOCK`), so concurrent executors cannot exceed a limit together, and a
    generic plan saves planning (most of such a claim's time); without, the claim is one
    statement (``SKIP LOCKED`` still gives every run to one executor).
    Cost: one index probe per tenant with pending runs, plus the runs it looks at (at most
    ``limit`` claimable ones per tenant and the blocked ones before them).
    """
    if not exact:
        return await pool.fetch(_CLAIM, executor_id, limit, lease_seconds, max_running, fair)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1),"
            " set_config('plan_cache_mode', 'force_generic_plan', true)",
            CLAIM_LOCK,
        )
        return await conn.fetch(_CLAIM, executor_id, limit, lease_seconds, max_running, fair)


async def next_available_at(pool: asyncpg.Pool) -> Any:
    """When the earliest delayed pending run becomes claimable (``None`` if none waits)."""
    return await pool.fetchval(
        "SELECT min(available_at) FROM runs WHERE status = 'pending' AND available_at > now()"
    )


async def finish(
    pool: asyncpg.Pool,
    *,
    run_id: uuid.UUID,
    claim_token: uuid.UUID,
    status: str,
    result: Any,
    error: Any,
    thread_status: str,
    thread_values: Any,
    thread_interrupts: dict[str, Any],
) -> asyncpg.Record | None:
    """End a running run and set its thread's state in one statement, which also queues the
    run's webhook delivery when ``kwargs.webhook`` is set (the outbox).

    Returns ``(thread_id, has_pending)``, or ``None`` when the claim was lost (nothing written).
    The thread becomes ``busy`` instead of ``thread_status`` while other runs wait on it.
    """
    return await pool.fetchrow(
        f"""WITH r AS (
               UPDATE runs SET status = $3, result = $4, error = $5, ended_at = now(),
                   updated_at = now(), lease_expires_at = NULL
               WHERE run_id = $1 AND claim_token = $2 AND status = 'running'
               RETURNING {ENDED_RUN_COLUMNS}, $7::json AS "values"),
           w AS ({enqueue_sql("r")}),
           p AS (SELECT EXISTS (SELECT 1 FROM runs q, r WHERE q.thread_id = r.thread_id
                                AND q.status = 'pending') AS has_pending)
           UPDATE threads t SET
               status = CASE WHEN p.has_pending THEN 'busy' ELSE $6 END,
               "values" = $7, interrupts = $8,
               error = CASE WHEN $6 = 'error' THEN $5 ELSE NULL END,
               updated_at = now(), state_updated_at = now()
           FROM r, p WHERE t.thread_id = r.thread_id
           RETURNING t.thread_id, p.has_pending""",
        run_id,
        claim_token,
        status,
        result,
        error,
        thread_status,
        thread_values,
        thread_interrupts,
    )


async def delete_claimed(
    pool: asyncpg.Pool,
    run_id: uuid.UUID,
    claim_token: uuid.UUID,
    thread_status: str,
    thread_values: Any,
    thread_interrupts: dict[str, Any],
) -> asyncpg.Record | None:
    """Delete a running run rolled back by cancel, restoring its thread's state.

    Returns ``(thread_id, has_pending)`` or ``None`` when the claim was lost.
    """
    return await pool.fetchrow(
        """WITH r AS (DELETE FROM runs WHERE run_id = $1 AND claim_token = $2
                      RETURNING thread_id),
           p AS (SELECT EXISTS (SELECT 1 FROM runs q, r WHERE q.thread_id = r.thread_id
                                AND q.status = 'pending') AS has_pending)
           UPDATE threads t SET status = CASE WHEN p.has_pending THEN 'busy' ELSE $3 END,
               "values" = $4, interrupts = $5, error = NULL,
               updated_at = now(), state_updated_at = now()
           FROM r, p WHERE t.thread_id = r.thread_id
           RETURNING t.thread_id, p.has_pending""",
        run_id,
        claim_token,
        thread_status,
        thread_values,
        thread_interrupts,
    )


async def release(pool: asyncpg.Pool, run_id: uuid.UUID, claim_token: uuid.UUID) -> bool:
    """Hand a running run back to ``pending`` (executor shutdown); ``False`` if not ours."""
    done = await pool.execute(
        """UPDATE runs SET status = 'pending', executor_id = NULL, claim_token = NULL,
               lease_expires_at = NULL, updated_at = now(), available_at = now()
           WHERE run_id = $1 AND claim_token = $2 AND status = 'running'""",
        run_id,
        claim_token,
    )
    return done.endswith(" 1")


_ENDED_WITH_VALUES = """(SELECT r.*, th."values" FROM r JOIN threads th USING (thread_id)
                          WHERE r.status <> 'pending')"""
_LOST = serialize_error(RuntimeError("the executor running this run stopped responding"))
_LOST["error"] = "ExecutorLost"


async def reclaim_expired(
    pool: asyncpg.Pool, max_attempts: int, *, every_running: bool = False
) -> list[asyncpg.Record]:
    """Put runs whose lease expired (with ``every_running``: all running runs) back to pending.

    ``every_running`` is for a server that owns its database alone (embedded mode) and starts
    after a crash: no other executor can hold a lease.

    A run that used ``max_attempts`` attempts ends ``error`` (ExecutorLost), or
    ``interrupted`` if a cancel was requested. A run with a cancel request and attempts left
    goes back to pending with its ``cancel_action`` kept: the executor claiming it carries the
    cancel out (interrupt at the last checkpoint, or rollback), as the lost one would have.
    The thread follows in the same statement, and so does the webhook delivery of each run
    that ended (the thread's stored values stand for its final values).
    Returns ``(run_id, thread_id, assistant_id, status, tenant_id, attempt, metadata,
    request_context)`` of every run touched (``attempt``: the one that was lost).
    """
    return await pool.fetch(
        f"""WITH r AS (
               UPDATE runs SET
                   status = CASE WHEN attempt < $1 THEN 'pending'
                                 WHEN cancel_action IS NOT NULL THEN 'interrupted'
                                 ELSE 'error' END,
                   error = CASE WHEN cancel_action IS NULL AND attempt >= $1 THEN $2::jsonb
                                ELSE error END,
                   ended_at = CASE WHEN attempt >= $1 THEN now() END,
                   executor_id = NULL, claim_token = NULL, lease_expires_at = NULL,
                   available_at = now(), updated_at = now()
               WHERE status = 'running'
                 AND (lease_expires_at < now() OR $3)
               RETURNING {ENDED_RUN_COLUMNS}),
           w AS ({enqueue_sql(_ENDED_WITH_VALUES)}),
           t AS (
               UPDATE threads th SET
                   status = CASE
                       WHEN EXISTS (SELECT 1 FROM r r2
                                    WHERE r2.thread_id = th.thread_id AND r2.status = 'pending')
                         OR EXISTS (SELECT 1 FROM runs q
                                    WHERE q.thread_id = th.thread_id AND q.status = 'pending')
                       THEN 'busy'
                       WHEN EXISTS (SELECT 1 FROM r r3
                                    WHERE r3.thread_id = th.thread_id AND r3.status = 'error')
                       THEN 'error'
                       ELSE 'idle' END,
                   updated_at = now()
               WHERE th.thread_id IN (SELECT thread_id FROM r)
               RETURNING th.thread_id)
           SELECT r.run_id, r.thread_id, r.assistant_id, r.status, r.tenant_id, r.attempt,
                  r.metadata, r.request_context
           FROM r""",
        max_attempts,
        _LOST,
        every_running,
    )


async def get(
    pool: asyncpg.Pool | asyncpg.Connection, run_id: uuid.UUID, thread_id: uuid.UUID | None = None
) -> asyncpg.Record | None:
    """One run (all columns), optionally required to belong to ``thread_id``."""
    if thread_id is None:
        return await pool.fetchrow("SELECT * FROM runs WHERE run_id = $1", run_id)
    return await pool.fetchrow(
        "SELECT * FROM runs WHERE run_id = $1 AND thread_id = $2", run_id, thread_id
    )


async def get_scoped(
    pool: asyncpg.Pool, run_id: uuid.UUID, scope: Scope, thread_id: uuid.UUID | None = None
) -> asyncpg.Record | None:
    """One run (all columns) whose thread is within ``scope`` (and is ``thread_id`` if
    given): one statement for the run and its thread's visibility."""
    args: list[Any] = [run_id, thread_id]
    where = scope.where(args, "t")
    return await pool.fetchrow(
        f"""SELECT r.* FROM runs r JOIN threads t USING (thread_id)
            WHERE r.run_id = $1 AND ($2::uuid IS NULL OR r.thread_id = $2) AND {where}""",
        *args,
    )


async def latest_tagged(
    pool: asyncpg.Pool, thread_id: uuid.UUID, run_id: uuid.UUID, key: str, value: str
) -> asyncpg.Record | None:
    """The newest run (all columns) of ``thread_id`` that is ``run_id`` or carries
    ``metadata[key] == value``: the latest run of an A2A task resumed by later runs."""
    return await pool.fetchrow(
        """SELECT * FROM runs WHERE thread_id = $1 AND (run_id = $2 OR metadata->>$3 = $4)
           ORDER BY seq DESC LIMIT 1""",
        thread_id,
        run_id,
        key,
        value,
    )


async def list_for_thread(
    pool: asyncpg.Pool, thread_id: uuid.UUID, limit: int, offset: int, status: str | None
) -> list[asyncpg.Record]:
    """Runs of a thread, newest first."""
    return await pool.fetch(
        f"""SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = $1
            AND ($4::text IS NULL OR status = $4)
            ORDER BY seq DESC LIMIT $2 OFFSET $3""",
        thread_id,
        limit,
        offset,
        status,
    )


# The heartbeat statement (psycopg placeholders ``(lease_seconds, executor_id, run_ids)``):
# renews the leases of the runs an executor is executing and reports their claims and cancel
# requests. Only those: a claim the executor lost track of (its answer never arrived, the
# attempt crashed) is not renewed, so it expires and the sweep hands the run back.
HEARTBEAT_SQL = """UPDATE runs SET lease_expires_at = now() + make_interval(secs => %s)
                   WHERE executor_id = %s AND status = 'running' AND run_id = ANY(%s)
                   RETURNING run_id, claim_token, cancel_action"""


async def status_of(pool: asyncpg.Pool, run_id: uuid.UUID) -> str | None:
    """Current status of a run, ``None`` when it no longer exists."""
    return await pool.fetchval("SELECT status FROM runs WHERE run_id = $1", run_id)


async def mark_awaited(pool: asyncpg.Pool, run_id: uuid.UUID) -> bool:
    """Mark a stateless run on a temporary thread as read by a request (``awaited``)
    while it is still active, so the end of the run leaves its thread to that reader; whether
    it was marked (``False``: not temporary, or already ended)."""
    marked = await pool.fetchval(
        """UPDATE runs SET awaited = true
           WHERE run_id = $1 AND ended_at IS NULL AND (kwargs->>'temporary')::boolean
           RETURNING true""",
        run_id,
    )
    return bool(marked)


async def final_values(pool: asyncpg.Pool, run_id: uuid.UUID) -> Any:
    """What wait/join answer for a run: its stored result, else its thread's values
    (``{}`` when neither exists)."""
    row = await pool.fetchrow(
        """SELECT r.result, t."values" FROM runs r JOIN threads t USING (thread_id)
           WHERE r.run_id = $1""",
        run_id,
    )
    if row is None:
        return {}
    return row["result"] if row["result"] is not None else (row["values"] or {})


async def select_ids(
    pool: asyncpg.Pool,
    scope: Scope | None,
    *,
    statuses: list[str] | None = None,
    run_ids: list[uuid.UUID] | None = None,
    thread_id: uuid.UUID | None = None,
    assistant_id: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """``run_id`` and ``request_context`` of the runs whose thread is within ``scope``
    (``None``: every tenant's) with one of ``statuses``, or among ``run_ids`` (of
    ``thread_id``, of ``assistant_id`` if given)."""
    args: list[Any] = [statuses, run_ids, thread_id, assistant_id]
    where = f" AND {scope.where(args, 't')}" if scope else ""
    return await pool.fetch(
        f"""SELECT r.run_id, r.request_context FROM runs r JOIN threads t USING (thread_id)
           WHERE ($1::text[] IS NULL OR r.status = ANY($1))
             AND ($2::uuid[] IS NULL OR r.run_id = ANY($2))
             AND ($3::uuid IS NULL OR r.thread_id = $3)
             AND ($4::uuid IS NULL OR r.assistant_id = $4){where}""",
        *args,
    )


async def delete_unless_running(pool: asyncpg.Pool, run_id: uuid.UUID) -> None:
    """Delete a run record that is not running (a running one is cancelled first)."""
    await pool.execute("DELETE FROM runs WHERE run_id = $1 AND status <> 'running'", run_id)


async def first_active_of_thread(pool: asyncpg.Pool, thread_id: uuid.UUID) -> asyncpg.Record | None:
    """``run_id, seq, status`` of the thread's oldest pending or running run."""
    return await pool.fetchrow(
        "SELECT run_id, seq, status FROM runs WHERE thread_id = $1"
        " AND status IN ('pending', 'running') ORDER BY seq LIMIT 1",
        thread_id,
    )


async def last_seq_of_thread(pool: asyncpg.Pool, thread_id: uuid.UUID) -> int:
    """The highest run ``seq`` of a thread, 0 when it has no runs."""
    return int(
        await pool.fetchval(
            "SELECT coalesce(max(seq), 0) FROM runs WHERE thread_id = $1", thread_id
        )
    )


async def run_at_or_after(
    pool: asyncpg.Pool, thread_id: uuid.UUID, run_seq: int
) -> asyncpg.Record | None:
    """``run_id, seq, status`` of the thread's first run with ``seq >= run_seq``."""
    return await pool.fetchrow(
        "SELECT run_id, seq, status FROM runs WHERE thread_id = $1 AND seq >= $2"
        " ORDER BY seq LIMIT 1",
        thread_id,
        run_seq,
    )


async def retry_later(
    pool: asyncpg.Pool,
    run_id: uuid.UUID,
    claim_token: uuid.UUID,
    delay_seconds: float,
    error: dict[str, Any],
) -> bool:
    """Put a running run whose graph raised back to ``pending`` for another attempt after
    ``delay_seconds`` (its thread stays busy); ``False`` if the claim was lost."""
    status = await pool.execute(
        """UPDATE runs SET status = 'pending', executor_id = NULL, claim_token = NULL,
               lease_expires_at = NULL, error = $4, updated_at = now(),
               available_at = now() + make_interval(secs => $3)
           WHERE run_id = $1 AND claim_token = $2 AND status = 'running'""",
        run_id,
        claim_token,
        delay_seconds,
        error,
    )
    return status.endswith(" 1")


@dataclass(frozen=True)
class RunCensus:
    """What the scrape-time gauges show (:func:`status_counts`)."""

    by_status: dict[str, int]
    """Runs per status (statuses without runs absent)."""
    queued: dict[str, tuple[int, float]]
    """Tenant → (due pending runs, seconds the oldest of them has been due), for tenants with
    due pending runs only."""
    oldest_running: dict[str, float]
    """Tenant → seconds since its longest-running run first started, for tenants with running
    runs only."""


_CENSUS = """SELECT status, CASE WHEN status IN ('pending', 'running') THEN tenant_id END AS tenant,
       count(*) AS n,
       count(*) FILTER (WHERE status = 'pending' AND available_at <= now()) AS due,
       extract(epoch FROM now() - min(available_at)
               FILTER (WHERE status = 'pending' AND available_at <= now()))::float8 AS waited,
       extract(epoch FROM now() - min(started_at) FILTER (WHERE status = 'running'))::float8
           AS running_for
FROM runs GROUP BY 1, 2"""


async def status_counts(pool: asyncpg.Pool) -> RunCensus:
    """Runs per status, and per tenant the due pending runs, the age of the oldest of them and
    the age of the longest-running run, in one statement (one scan of ``runs``, one group per
    final status and one per tenant with pending or running runs). A pending run is due when
    its ``available_at`` has passed (``after_seconds`` and retry backoffs hold runs back)."""
    by_status: dict[str, int] = {}
    queued: dict[str, tuple[int, float]] = {}
    oldest_running: dict[str, float] = {}
    for row in await pool.fetch(_CENSUS):
        status, tenant = row["status"], row["tenant"]
        by_status[status] = by_status.get(status, 0) + row["n"]
        if status == "pending" and row["due"]:
            queued[tenant] = (row["due"], max(0.0, row["waited"]))
        elif status == "running" and row["running_for"] is not None:
            oldest_running[tenant] = max(0.0, row["running_for"])
    return RunCensus(by_status, queued, oldest_running)


async def cancel_pending(
    conn: asyncpg.Connection, run_ids: list[uuid.UUID], action: str
) -> list[str]:
    """End the pending runs among ``run_ids`` at once: ``interrupted`` (queuing their
    webhooks in the same statement), or deleted for ``rollback``. Returns the graph id of
    each run it ended ``interrupted`` (none for ``rollback``)."""
    if action == "rollback":
        await conn.execute(
            "DELETE FROM runs WHERE run_id = ANY($1) AND status = 'pending'", run_ids
        )
        return []
    rows = await conn.fetch(
        f"""WITH r AS (
               UPDATE runs SET status = 'interrupted', ended_at = now(), updated_at = now()
               WHERE run_id = ANY($1) AND status = 'pending'
               RETURNING {ENDED_RUN_COLUMNS}),
           w AS ({enqueue_sql(_ENDED_WITH_VALUES)})
           SELECT metadata->>'graph_id' AS graph_id FROM r""",
        run_ids,
    )
    return [row["graph_id"] for row in rows]


async def flag_cancel(conn: asyncpg.Connection, run_ids: list[uuid.UUID], action: str) -> int:
    """Mark the running runs among ``run_ids`` for their executor to cancel with ``action``."""
    status = await conn.execute(
        """UPDATE runs SET cancel_action = $2, updated_at = now()
           WHERE run_id = ANY($1) AND status = 'running'""",
        run_ids,
        action,
    )
    return int(status.split()[-1])


async def lock_active(conn: asyncpg.Connection, run_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """``run_id, thread_id, status`` of the pending or running runs among ``run_ids``, locked
    for the caller's transaction."""
    return await conn.fetch(
        "SELECT run_id, thread_id, status FROM runs WHERE run_id = ANY($1)"
        " AND status IN ('pending', 'running') FOR UPDATE",
        run_ids,
    )
