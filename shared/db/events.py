"""Queries on ``run_events``: the stored stream of every run, for SSE replay and joins.

Events are appended in batches by the executor holding the run; a batch is refused (0 rows)
when the executor's claim token no longer matches (fencing).
"""

from __future__ import annotations

import uuid

import asyncpg


async def append(
    pool: asyncpg.Pool,
    run_id: uuid.UUID,
    claim_token: uuid.UUID,
    seqs: list[int],
    events: list[str],
    datas: list[str],
) -> bool:
    """Append events ``seqs[i]: events[i] datas[i]`` (data is JSON text); ``False`` if fenced."""
    status = await pool.execute(
        """INSERT INTO run_events (run_id, seq, event, data)
           SELECT $1, u.s, u.e, u.d FROM unnest($3::int[], $4::text[], $5::text[]) AS u(s, e, d)
           WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = $1 AND claim_token = $2)
           ON CONFLICT DO NOTHING""",
        run_id,
        claim_token,
        seqs,
        events,
        datas,
    )
    return not status.endswith(" 0")


async def read_after(
    pool: asyncpg.Pool, run_id: uuid.UUID, after_seq: int, limit: int = 1000
) -> list[asyncpg.Record]:
    """Events of a run with ``seq > after_seq``, in order, at most ``limit``."""
    return await pool.fetch(
        "SELECT seq, event, data FROM run_events WHERE run_id = $1 AND seq > $2"
        " ORDER BY seq LIMIT $3",
        run_id,
        after_seq,
        limit,
    )


async def last_seq(pool: asyncpg.Pool | asyncpg.Connection, run_id: uuid.UUID) -> int:
    """The highest stored ``seq`` of a run, 0 when none."""
    return await pool.fetchval(
        "SELECT coalesce(max(seq), 0) FROM run_events WHERE run_id = $1", run_id
    )


async def delete_expired(pool: asyncpg.Pool, retention_seconds: float) -> int:
    """Delete events of runs that ended more than ``retention_seconds`` ago (looking back one
    day past that: the sweep runs every few seconds). Events of deleted runs go with them (a
    trigger on ``runs``)."""
    status = await pool.execute(
        """DELETE FROM run_events e USING runs r
           WHERE e.run_id = r.run_id
             AND r.ended_at < now() - make_interval(secs => $1)
             AND r.ended_at > now() - make_interval(secs => $1 + 86400)""",
        retention_seconds,
    )
    return int(status.split()[-1])
