"""Leases across processes: ``lg-deploy intake`` and two ``lg-deploy executor`` on one database.

Guarantees (research §2.3): G1 (every accepted run ends), G2 (a run is executed once; after a
takeover only the step in flight reruns), G3 (fencing: a stale claim token writes nothing),
G6 (a dead executor's runs are taken over within lease + sweep), G9 (a cancel recorded in
PostgreSQL reaches the executor even when the wake-up message is lost), G12 (event ids of a
run stay gap-free across attempts).
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError
from langgraph_sdk.schema import Run

from shared.db import events as events_db
from shared.db import runs as runs_db
from shared.db.pool import Database
from shared.errors import LostClaim
from shared.execution.checkpointer import FencedSaver
from tests.faults.helpers import (
    LEASE_SECONDS,
    STEP_NAMES,
    SWEEP_SECONDS,
    assert_only_in_flight_reran,
    eventually,
    ledger_lines,
    start_run,
    start_steps_run,
)
from tests.integration.conftest import Cluster, Executor
from tests.support import sdk

TAKEOVER_SECONDS = LEASE_SECONDS + SWEEP_SECONDS + 5
"""How soon a run of a dead or paused executor must be claimed again."""


async def _run_row(db: Database, run_id: str) -> asyncpg.Record:
    row = await db.pool.fetchrow(
        "SELECT status, attempt, executor_id, claim_token FROM runs WHERE run_id = $1",
        uuid.UUID(run_id),
    )
    assert row is not None
    return row


async def _event_seqs(db: Database, run_id: str) -> list[int]:
    rows = await db.pool.fetch(
        "SELECT seq FROM run_events WHERE run_id = $1 ORDER BY seq", uuid.UUID(run_id)
    )
    return [r["seq"] for r in rows]


async def _held_steps_run(
    client: LangGraphClient, db: Database, cluster: Cluster, ledger: Path
) -> tuple[Run, asyncpg.Record, Executor, Executor]:
    """A 20-step run once 5 steps ran: the run, its row, its executor and the other one."""
    run = await start_steps_run(client, ledger, started=5)
    row = await _run_row(db, run["run_id"])
    assert row["status"] == "running" and row["attempt"] == 1
    holder = cluster.by_id(row["executor_id"])
    other = next(e for e in cluster.executors if e is not holder)
    return run, row, holder, other


async def _wait_takeover(db: Database, run_id: str, by: str) -> asyncpg.Record:
    async def claimed_again() -> asyncpg.Record | None:
        row = await _run_row(db, run_id)
        return row if row["attempt"] == 2 else None

    row = await eventually(claimed_again, within=TAKEOVER_SECONDS, what="the takeover")
    assert row["executor_id"] == by
    return row


async def _assert_resumed_by(
    db: Database, run: Run, values: dict[str, Any], ledger: Path, in_flight: str, by: Executor
) -> None:
    assert values == {"items": STEP_NAMES}
    assert_only_in_flight_reran(ledger, [in_flight])
    final = await _run_row(db, run["run_id"])
    assert final["status"] == "success" and final["executor_id"] == by.executor_id
    seqs = await _event_seqs(db, run["run_id"])
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.slow
async def test_twenty_runs_on_two_executors_each_run_once_and_both_share_the_work(
    cluster: Cluster, db: Database, tmp_path: Path
) -> None:
    ledgers = [tmp_path / f"ledger{i}.txt" for i in range(20)]
    async with sdk(cluster.intake) as client:
        threads = [await client.threads.create() for _ in ledgers]
        runs = [
            await client.runs.create(
                t["thread_id"],
                "steps",
                input={"items": []},
                config={"configurable": {"ledger": str(path), "sleep": 0.01}},
            )
            for t, path in zip(threads, ledgers, strict=True)
        ]
        results = await asyncio.gather(
            *(client.runs.join(r["thread_id"], r["run_id"]) for r in runs)
        )
    assert results == [{"items": STEP_NAMES}] * 20
    rows = [await _run_row(db, r["run_id"]) for r in runs]
    assert {r["status"] for r in rows} == {"success"}
    assert {r["attempt"] for r in rows} == {1}
    assert {r["executor_id"] for r in rows} == {e.executor_id for e in cluster.executors}
    for path in ledgers:
        assert ledger_lines(path) == STEP_NAMES


@pytest.mark.slow
async def test_run_of_a_killed_executor_is_resumed_by_the_other_from_its_checkpoint(
    cluster: Cluster, db: Database, ledger: Path
) -> None:
    async with sdk(cluster.intake) as client:
        run, before, victim, survivor = await _held_steps_run(client, db, cluster, ledger)
        victim.server.kill_group()
        in_flight = ledger_lines(ledger)[-1]
        after = await _wait_takeover(db, run["run_id"], survivor.executor_id)
        # the dead attempt's token is stale now: its writes are refused
        stale = before["claim_token"]
        assert stale != after["claim_token"]
        run_id = uuid.UUID(run["run_id"])
        assert not await events_db.append(db.pool, run_id, stale, [9999], ["x"], ["{}"])
        values = await client.runs.join(run["thread_id"], run["run_id"])
    await _assert_resumed_by(db, run, values, ledger, in_flight, survivor)


@pytest.mark.slow
async def test_executor_paused_past_its_lease_is_fenced_out_when_it_resumes(
    cluster: Cluster, db: Database, ledger: Path
) -> None:
    async with sdk(cluster.intake) as client:
        run, _, paused, survivor = await _held_steps_run(client, db, cluster, ledger)
        os.killpg(paused.server.proc.pid, signal.SIGSTOP)
        try:
            in_flight = ledger_lines(ledger)[-1]
            await _wait_takeover(db, run["run_id"], survivor.executor_id)
        finally:
            os.killpg(paused.server.proc.pid, signal.SIGCONT)
        values = await client.runs.join(run["thread_id"], run["run_id"])
        await eventually(
            lambda: "lost" in paused.server.log_text(),
            within=30,
            what="the paused executor to notice it lost the run",
        )
        state = await client.threads.get_state(run["thread_id"])
    await _assert_resumed_by(db, run, values, ledger, in_flight, survivor)
    assert state["values"] == {"items": STEP_NAMES} and state["next"] == []
    assert paused.server.proc.poll() is None  # it lost a run, not its life


async def test_writes_under_a_wrong_claim_token_change_nothing(
    cluster: Cluster, db: Database
) -> None:
    wrong = uuid.uuid4()
    async with sdk(cluster.intake) as client:
        run = await _running_slow_run(client, db, sleep=1.0)
        tid, run_id = run["thread_id"], uuid.UUID(run["run_id"])

        forged = await runs_db.finish(
            db.pool,
            run_id=run_id,
            claim_token=wrong,
            status="error",
            result={"forged": True},
            error=None,
            thread_status="error",
            thread_values={"forged": True},
            thread_interrupts={},
        )
        assert forged is None
        assert not await runs_db.release(db.pool, run_id, wrong)
        assert await runs_db.delete_claimed(db.pool, run_id, wrong, "idle", {}, {}) is None
        assert not await events_db.append(db.pool, run_id, wrong, [9999], ["x"], ["{}"])
        saver = FencedSaver(
            db.checkpoint_pool,
            pool=db.pool,
            run_id=run_id,
            claim_token=wrong,
            trusted=lambda: False,  # no lease confirmed: the fence must ask the database
        )
        config = {"configurable": {"thread_id": tid, "checkpoint_ns": ""}}
        forged_checkpoint = empty_checkpoint()
        with pytest.raises(LostClaim):
            await saver.aput(config, forged_checkpoint, {}, {})  # type: ignore[arg-type]
        assert not await _checkpoint_exists(db, tid, forged_checkpoint["id"])
        with pytest.raises(LostClaim):
            await saver.aput_writes(config, [("items", ["forged"])], "task-1")
        assert (await _run_row(db, run["run_id"]))["status"] == "running"

        values = await client.runs.join(tid, run["run_id"])
        thread_after = await client.threads.get(tid)
    assert values == {"items": ["nap"] * 3}
    assert thread_after["status"] == "idle" and thread_after["values"] == values
    assert 9999 not in await _event_seqs(db, run["run_id"])


async def test_cancel_recorded_in_the_database_reaches_the_executor_without_a_wake_up(
    cluster: Cluster, db: Database
) -> None:
    async with sdk(cluster.intake) as client:
        run = await _running_slow_run(client, db, sleep=2.0)
        # as a cancel whose NOTIFY was lost: only the row says so
        await db.pool.execute(
            "UPDATE runs SET cancel_action = 'interrupt' WHERE run_id = $1",
            uuid.UUID(run["run_id"]),
        )
        await client.runs.join(run["thread_id"], run["run_id"])
        after = await client.runs.get(run["thread_id"], run["run_id"])
        thread_after = await client.threads.get(run["thread_id"])
    assert after["status"] == "interrupted"  # not "success": it did not run to its end
    assert thread_after["status"] == "interrupted"


async def _running_slow_run(client: LangGraphClient, db: Database, *, sleep: float) -> Run:
    """A run of the 3-step ``slow`` graph (``sleep`` s a step), once an executor runs it."""
    run = await start_run(client, "slow", {"sleep": sleep})

    async def running() -> bool:
        return bool((await _run_row(db, run["run_id"]))["status"] == "running")

    await eventually(running, within=30, what="the run to start")
    return run


async def _checkpoint_exists(db: Database, thread_id: str, checkpoint_id: str) -> bool:
    return bool(
        await db.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2)",
            thread_id,
            checkpoint_id,
        )
    )


@pytest.mark.slow
async def test_claim_its_executor_lost_track_of_expires_and_the_run_still_ends(
    cluster: Cluster, db: Database
) -> None:
    async with sdk(cluster.intake) as client:
        thread = await client.threads.create()
        run = await client.runs.create(
            thread["thread_id"], "echo", input={"items": []}, after_seconds=600
        )
        # as a claim committed whose answer never reached the executor: the row names a live
        # executor that is not running it
        await db.pool.execute(
            """UPDATE runs SET status = 'running', executor_id = $2,
                   claim_token = gen_random_uuid(), attempt = attempt + 1,
                   lease_expires_at = now() + make_interval(secs => $3), available_at = now()
               WHERE run_id = $1""",
            uuid.UUID(run["run_id"]),
            cluster.executors[0].executor_id,
            LEASE_SECONDS,
        )
        async with asyncio.timeout(TAKEOVER_SECONDS + 30):
            values = await client.runs.join(thread["thread_id"], run["run_id"])
    assert values == {"items": ["one"]}
    final = await _run_row(db, run["run_id"])
    assert final["status"] == "success" and final["attempt"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("action", ["interrupt", "rollback"])
async def test_cancel_of_a_run_whose_executor_died_is_carried_out_by_the_next_one(
    cluster: Cluster, db: Database, action: str
) -> None:
    async with sdk(cluster.intake) as client:
        thread = await client.threads.create()
        tid = thread["thread_id"]
        await client.runs.wait(
            tid, "slow", input={"items": []}, config={"configurable": {"sleep": 0}}
        )
        state_before = await client.threads.get_state(tid)
        history_before = await client.threads.get_history(tid, limit=100)
        run = await client.runs.create(
            tid, "slow", input={"items": []}, config={"configurable": {"sleep": 1.0}}
        )

        async def step_one_checkpointed() -> bool:
            state = await client.threads.get_state(tid)
            return state["values"]["items"] == ["nap"] * 4

        await eventually(step_one_checkpointed, within=30, what="step 1 to be checkpointed")
        holder = (await _run_row(db, run["run_id"]))["executor_id"]
        cluster.by_id(holder).server.kill_group()

        await client.runs.cancel(tid, run["run_id"], wait=True, action=action)  # type: ignore[arg-type]

        thread_after = await client.threads.get(tid)
        state = await client.threads.get_state(tid)
        if action == "interrupt":
            after = await client.runs.get(tid, run["run_id"])
            assert after["status"] == "interrupted"
            assert thread_after["status"] == "interrupted"
            assert state["values"] == {"items": ["nap"] * 4}
            assert state["next"] == ["step_2"]
        else:
            with pytest.raises(NotFoundError):
                await client.runs.get(tid, run["run_id"])
            assert thread_after["status"] == "idle"
            assert state == state_before
            assert await client.threads.get_history(tid, limit=100) == history_before
