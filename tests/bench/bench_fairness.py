"""Fairness and limits benchmark (issue 9): a noisy neighbour's flood, and what limits cost.

Run from the repository root: ``.venv/bin/python -m tests.bench.bench_fairness [--quick]``.
Nothing is asserted: timings depend on the machine and on what else runs on it.

1. **Noisy neighbour**, once with fair claims and once without (``LG_DEPLOY_FAIR_CLAIMS``), each
   on a fresh ``lg-deploy dev`` (``LG_DEPLOY_N_JOBS`` slots): tenant A has ``--flood`` runs of
   the ``echo`` graph queued (written to PostgreSQL in one statement, copies of a run created
   through the API: the API gives every request the ``default`` tenant until keys exist) and
   the executor busy with them; then tenant B (``default``) creates one run through the
   official SDK. Printed: B's wait from creation to start (PostgreSQL's ``created_at`` →
   ``started_at``) and how many of A's runs started in between.
2. **Costs**, on the fair server before its flood: the request-rate limiter per request (p50 of
   ``GET /threads/{id}`` with the tenant's rate limit on and off, alternating blocks; and in this
   process, ``RateLimiter.admit`` against the server's PostgreSQL with the statements it sent),
   the queued-runs check at run creation (with 0 and with ``--flood`` queued runs), and the claim
   statement with ``--flood`` runs queued, fair and oldest-first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from langgraph_sdk import get_client

from shared.config import Settings
from shared.db import limits as limits_db
from shared.db import runs as runs_db
from shared.db.migrate import apply_migrations
from shared.services.rate_limit import RateLimiter
from tests.bench.bench_core import Report, ms, pg_uri
from tests.support import Server, postgres_dir, start

FLOOD_SQL = """WITH src AS (SELECT * FROM runs WHERE run_id = $1),
       th AS (SELECT * FROM threads WHERE thread_id = $3),
       ids AS (SELECT gen_random_uuid() AS run_id, gen_random_uuid() AS thread_id
               FROM generate_series(1, $2)),
       t AS (INSERT INTO threads (thread_id, metadata, status, config, tenant_id)
             SELECT ids.thread_id, th.metadata, 'busy', th.config, 'A' FROM ids, th),
       e AS (INSERT INTO run_events (run_id, seq, event, data)
             SELECT ids.run_id, 1, ev.event, replace(ev.data, $1::text, ids.run_id::text)
             FROM ids, run_events ev WHERE ev.run_id = $1 AND ev.seq = 1)
       INSERT INTO runs (run_id, thread_id, assistant_id, status, metadata, kwargs,
                         multitask_strategy, tenant_id, request_context)
       SELECT ids.run_id, ids.thread_id, src.assistant_id, 'pending', src.metadata, src.kwargs,
              src.multitask_strategy, 'A', src.request_context
       FROM ids, src"""
"""``$2`` copies of run ``$1`` (and of its thread ``$3`` and first event) for tenant A."""


async def flood(pg: asyncpg.Connection, template: dict[str, Any], n: int) -> float:
    """Queue ``n`` copies of the ``template`` run for tenant A; the seconds it took."""
    begun = time.perf_counter()
    await pg.execute(FLOOD_SQL, uuid.UUID(template["run_id"]), n, uuid.UUID(template["thread_id"]))
    return time.perf_counter() - begun


async def noisy_neighbour(server: Server, n: int) -> dict[str, float]:
    """Tenant A floods, tenant B creates one run: B's wait and A's runs started meanwhile."""
    pg = await asyncpg.connect(pg_uri(server))
    client = get_client(url=server.url)
    try:
        thread = await client.threads.create()
        # the template waits an hour, so that it is never claimed; its copies are due now
        template = await client.runs.create(
            thread["thread_id"], "echo", input={"items": []}, after_seconds=3600
        )
        seconds = await flood(pg, dict(template), n)
        await client.runs.create(None, "echo", input={"items": []})  # wakes the executor
        await asyncio.sleep(2.0)  # the executor is busy with A's runs now
        b_thread = await client.threads.create()
        b_run = await client.runs.create(b_thread["thread_id"], "echo", input={"items": []})
        await client.runs.join(b_thread["thread_id"], b_run["run_id"])
        row = await pg.fetchrow(
            """SELECT extract(epoch FROM b.started_at - b.created_at)::float8 AS wait,
                      (SELECT count(*) FROM runs a WHERE a.tenant_id = 'A'
                         AND a.started_at > b.created_at AND a.started_at < b.started_at)
                          AS a_started,
                      (SELECT count(*) FROM runs a WHERE a.tenant_id = 'A'
                         AND a.status = 'pending') AS a_queued
               FROM runs b WHERE b.run_id = $1""",
            uuid.UUID(b_run["run_id"]),
        )
        return {"flood_seconds": seconds, **dict(row)}
    finally:
        await client.aclose()
        await pg.close()


async def rate_limit_cost(server: Server, blocks: int, per_block: int) -> dict[str, float]:
    """p50 of ``GET /threads/{id}`` with the tenant's rate limit off and on (a limit that is
    never reached), in alternating blocks; the PUT applies at once on this intake."""
    samples: dict[bool, list[float]] = {False: [], True: []}
    async with httpx.AsyncClient(base_url=server.url) as http:
        thread_id = (await http.post("/threads", json={})).json()["thread_id"]
        for _ in range(200):  # warm-up
            await http.get(f"/threads/{thread_id}")
        for block in range(2 * blocks):
            limited = block % 2 == 1
            limit = 2_000_000_000 if limited else None
            await http.put("/tenants/default/limits", json={"requests_per_window": limit})
            for _ in range(per_block):
                begun = time.perf_counter()
                answer = await http.get(f"/threads/{thread_id}")
                samples[limited].append(time.perf_counter() - begun)
                assert answer.status_code == 200
                assert ("ratelimit" in answer.headers) == limited
        await http.put("/tenants/default/limits", json={})
    return {
        "off": statistics.median(samples[False]),
        "on": statistics.median(samples[True]),
    }


class CountingPool:
    """An asyncpg pool that counts the statements sent through ``fetchrow`` (the limiter's
    only call)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.statements = pool, 0

    async def fetchrow(self, *args: Any) -> Any:
        self.statements += 1
        return await self.pool.fetchrow(*args)


async def admit_cost(uri: str, admits: int, limit: int) -> dict[str, float]:
    """``RateLimiter.admit`` in this process, ``admits`` times under ``limit`` per 3600 s
    window (a tenant of its own): µs per call and statements sent."""
    pool = await asyncpg.create_pool(uri, min_size=1, max_size=2)
    try:
        counting = CountingPool(pool)
        limiter = RateLimiter(counting, 3600)  # type: ignore[arg-type]
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        allowed = 0
        begun = time.perf_counter()
        for _ in range(admits):
            allowed += (await limiter.admit(tenant, limit)).allowed
        per_call = (time.perf_counter() - begun) / admits
        return {"us": per_call * 1e6, "statements": counting.statements, "allowed": allowed}
    finally:
        await pool.close()


async def timed(
    call: Callable[[], Awaitable[Any]], n: int, after: Callable[[], Awaitable[Any]] | None = None
) -> float:
    """Median seconds of ``n`` calls (each followed by ``after``, not timed)."""
    samples = []
    for _ in range(n):
        begun = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - begun)
        if after is not None:
            await after()
    return statistics.median(samples)


async def claim_cost(uri: str, queued: int) -> dict[str, float]:
    """The claim statement (8 slots) with ``queued`` runs of tenant A and one of B queued, in a
    scratch database of the server's PostgreSQL (no executor on it): fair and oldest first;
    and the queued-runs check with ``queued`` and with 0 runs queued."""
    name = f"bench_claims_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(uri)
    await admin.execute(f"CREATE DATABASE {name}")
    scratch = uri.replace("/postgres?", f"/{name}?")
    pool = await asyncpg.create_pool(scratch, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
            await conn.execute(
                """INSERT INTO threads (thread_id, tenant_id)
                   SELECT gen_random_uuid(), CASE WHEN i = 0 THEN 'B' ELSE 'A' END
                   FROM generate_series(0, $1) i""",
                queued,
            )
            await conn.execute(
                """INSERT INTO runs (run_id, thread_id, assistant_id, status, tenant_id)
                   SELECT gen_random_uuid(), thread_id, gen_random_uuid(), 'pending', tenant_id
                   FROM threads"""
            )
            await conn.execute("ANALYZE runs")
        figures = {}

        async def unclaim() -> None:
            await pool.execute("UPDATE runs SET status = 'pending' WHERE status = 'running'")

        for fair in (True, False):

            async def one_claim(fair: bool = fair) -> None:
                await runs_db.claim(pool, "bench", 8, 30.0, fair=fair)

            figures["fair" if fair else "fifo"] = await timed(one_claim, 50, unclaim)
        cap = Settings().tenant_max_queued_runs
        async with pool.acquire() as conn:
            for tenant, label in (("A", "queued_full"), ("nobody", "queued_empty")):

                async def check(conn: asyncpg.Connection = conn, tenant: str = tenant) -> None:
                    await conn.fetchval(
                        f"SELECT {limits_db.queue_full_sql('$1', '$2')}", tenant, cap
                    )

                figures[label] = await timed(check, 200)
        return figures
    finally:
        await pool.close()
        await admin.execute(f"DROP DATABASE {name}")
        await admin.close()


def serve(base: Path, fair: bool, jobs: int) -> Server:
    """``lg-deploy dev`` on ``tests/graphs`` with fair claims on or off, no queued-runs limit."""
    return start(
        "dev",
        data_dir=base / "data",
        log=base / "server.log",
        env={
            "LG_DEPLOY_LOG_LEVEL": "WARNING",
            "LG_DEPLOY_FAIR_CLAIMS": str(fair).lower(),
            "LG_DEPLOY_N_JOBS": str(jobs),
            "LG_DEPLOY_TENANT_MAX_QUEUED_RUNS": "none",
        },
    )


async def bench(args: argparse.Namespace, report: Report) -> None:
    """Measure and add rows to ``report``."""
    for fair in (True, False):
        with postgres_dir("bench-fairness") as base:
            server = serve(base, fair, args.jobs)
            try:
                if fair:
                    await costs(server, args, report)
                found = await noisy_neighbour(server, args.flood)
            finally:
                server.stop()
        mode = "fair claims" if fair else "oldest first (LG_DEPLOY_FAIR_CLAIMS=false)"
        report.add(
            f"B's single run: creation → start, {mode}",
            f"{ms(found['wait'])}, after {found['a_started']} of A's runs started",
        )
        report.notes.append(
            f"{mode}: {args.flood:,} runs of A queued in {found['flood_seconds']:.2f} s;"
            f" {found['a_queued']:,} still queued when B's run ended"
        )


async def costs(server: Server, args: argparse.Namespace, report: Report) -> None:
    """The limiter, queued-check and claim figures (see the module docstring)."""
    blocks = 3 if args.quick else 10
    rate = await rate_limit_cost(server, blocks, 300)
    report.add(
        "GET /threads/{id} p50, rate limit off / on",
        f"{ms(rate['off'])} / {ms(rate['on'])} ({(rate['on'] - rate['off']) * 1e3:+.3f} ms)",
        "+0.2 ms at most",
    )
    uri = pg_uri(server)
    admits = 20_000 if args.quick else 100_000
    far = await admit_cost(uri, admits, 2_000_000_000)
    report.add(
        f"RateLimiter.admit, {admits:,} calls far from the limit",
        f"{far['us']:.1f} µs per call, {far['statements']} statements",
    )
    near = await admit_cost(uri, 3000, 2000)
    report.add(
        "RateLimiter.admit, 3,000 calls under a limit of 2,000",
        f"{near['us']:.1f} µs per call, {near['statements']} statements, {near['allowed']} allowed",
    )
    claims = await claim_cost(uri, args.flood)
    report.add(
        f"claim statement (8 slots), {args.flood:,} runs queued: fair / oldest first",
        f"{ms(claims['fair'])} / {ms(claims['fifo'])}",
    )
    report.add(
        f"queued-runs check at run creation: 0 / {args.flood:,} queued",
        f"{ms(claims['queued_empty'])} / {ms(claims['queued_full'])}",
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tests.bench.bench_fairness [--quick] [--flood N] [--jobs N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2,000-run flood, fewer samples")
    parser.add_argument("--flood", type=int, default=None, help="tenant A's queued runs")
    parser.add_argument("--jobs", type=int, default=8, help="LG_DEPLOY_N_JOBS of the server")
    args = parser.parse_args(argv)
    if args.flood is None:
        args.flood = 2_000 if args.quick else 10_000
    load = os.getloadavg()[0]
    report = Report()
    uvloop.run(bench(args, report))
    print(f"\nlg-deploy dev, {os.cpu_count()} cores, load average {load:.2f} at start")
    report.print()


if __name__ == "__main__":
    main()
