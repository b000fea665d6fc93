"""Webhook delivery on a real PostgreSQL: the statements that end a run queue its delivery
(the outbox) in the same statement, and across processes (``lg-deploy intake``, ``executor``
and ``webhooks`` on one database) a deliverer SIGKILLed in the middle of a request loses
nothing: once its lease expires another deliverer records the lost attempt and delivers.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from shared.db import runs as runs_db
from shared.db.migrate import apply_migrations
from shared.db.pool import Database
from tests.faults.helpers import eventually
from tests.support import Server, sdk, start
from tests.webhook_receiver import HANG, SECRET_ENV, receiver, write_project

LEASE_SECONDS = 4.0
HOOK = "https://hooks.example.com/run-ended"


async def _running_run(db: Database, *, attempt: int, webhook: str | None) -> tuple[Any, Any]:
    """A thread with values and a run on it, running with an expired lease; ``(run_id, token)``."""
    run_id, thread_id, token = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await db.pool.execute(
        """INSERT INTO threads (thread_id, tenant_id, status, "values")
           VALUES ($1, 'default', 'busy', '{"n": 1}')""",
        thread_id,
    )
    await db.pool.execute(
        """INSERT INTO runs (run_id, thread_id, assistant_id, status, kwargs, attempt,
               claim_token, started_at, lease_expires_at, tenant_id)
           VALUES ($1, $2, $3, 'running', $4, $5, $6, now(), now() - interval '1 second',
                   'default')""",
        run_id,
        thread_id,
        uuid.uuid4(),
        {"webhook": webhook} if webhook else {},
        attempt,
        token,
    )
    return run_id, token


async def _queued(db: Database, run_id: Any) -> list[Any]:
    return await db.pool.fetch(
        'SELECT url, state, status, error, "values" FROM webhook_deliveries WHERE run_id = $1',
        run_id,
    )


async def test_run_end_statements_queue_the_delivery_with_the_end(db: Database) -> None:
    async with db.pool.acquire() as conn:
        await apply_migrations(conn)
    ends = {"result": None, "thread_status": "idle", "thread_interrupts": {}}

    ended, token = await _running_run(db, attempt=1, webhook=HOOK)
    lost = await runs_db.finish(
        db.pool,
        run_id=ended,
        claim_token=uuid.uuid4(),
        status="success",
        error=None,
        thread_values={"n": 2},
        **ends,
    )
    assert lost is None and await _queued(db, ended) == []  # a lost claim writes nothing
    assert await runs_db.finish(
        db.pool,
        run_id=ended,
        claim_token=token,
        status="success",
        error=None,
        thread_values={"n": 2},
        **ends,
    )
    [row] = await _queued(db, ended)
    assert (row["url"], row["state"], row["status"], row["values"]) == (
        HOOK,
        "pending",
        "success",
        {"n": 2},
    )

    quiet, token = await _running_run(db, attempt=1, webhook=None)
    await runs_db.finish(
        db.pool,
        run_id=quiet,
        claim_token=token,
        status="success",
        error=None,
        thread_values={},
        **ends,
    )
    assert await _queued(db, quiet) == []

    exhausted, _ = await _running_run(db, attempt=3, webhook=HOOK)
    retried, _ = await _running_run(db, attempt=1, webhook=HOOK)
    await runs_db.reclaim_expired(db.pool, 3)
    [row] = await _queued(db, exhausted)
    assert row["status"] == "error" and row["error"]["error"] == "ExecutorLost"
    assert row["values"] == {"n": 1}
    assert await _queued(db, retried) == []  # back to pending: not an end
    created = [ended, quiet, exhausted, retried]
    await db.pool.execute(
        "DELETE FROM threads WHERE thread_id IN"
        " (SELECT thread_id FROM runs WHERE run_id = ANY($1))",
        created,
    )
    await db.pool.execute("DELETE FROM webhook_deliveries WHERE run_id = ANY($1)", created)


def _start(command: str, database_url: str, config: Path, log: Path) -> Server:
    return start(
        command, database_url=database_url, config=config, env=SECRET_ENV, log=log, wait=False
    )


async def _deliverer(database_url: str, config: Path, log: Path) -> Server:
    server = _start("webhooks", database_url, config, log)
    await eventually(
        lambda: "webhooks deliverer" in server.log_text() or server.proc.poll() is not None,
        within=60,
        what="the deliverer to start",
    )
    assert server.proc.poll() is None, server.log_text()
    return server


async def test_killed_deliverer_delivery_is_taken_over_after_its_lease(
    database_url: str, tmp_path: Path
) -> None:
    config = write_project(tmp_path, timeout_seconds=3, lease_seconds=LEASE_SECONDS)
    intake = start(
        "intake", database_url=database_url, config=config, env=SECRET_ENV, log=tmp_path / "i.log"
    )
    processes = [intake, _start("executor", database_url, config, tmp_path / "executor.log")]
    try:
        with receiver() as recv:
            recv.reply("/slow", HANG, 200)
            first = await _deliverer(database_url, config, tmp_path / "webhooks1.log")
            processes.append(first)
            async with sdk(intake) as client:
                thread = await client.threads.create()
                tid = thread["thread_id"]
                run = await client.runs.create(tid, "echo", input={}, webhook=recv.url("/slow"))
                await client.runs.join(tid, run["run_id"])
            await eventually(recv.hanging.is_set, within=60, what="the first POST to arrive")
            first.kill_group()
            processes.append(await _deliverer(database_url, config, tmp_path / "webhooks2.log"))

            async def delivered() -> dict[str, Any] | None:
                async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
                    path = f"/threads/{tid}/runs/{run['run_id']}/webhooks"
                    [delivery] = (await http.get(path)).json()
                return delivery if delivery["status"] == "delivered" else None

            delivery = await eventually(delivered, within=60, what="the delivery by the second")
            assert [a["outcome"] for a in delivery["attempts"]] == ["lost", "delivered"]
            assert "lease expired" in delivery["attempts"][0]["error"]
            requests = recv.at("/slow")
            assert len(requests) == 2
            assert {r.headers["webhook-id"] for r in requests} == {delivery["delivery_id"]}
            assert requests[1].signature_ok()
            assert requests[1].json()["run_id"] == run["run_id"]
    finally:
        for process in processes:
            process.stop()
