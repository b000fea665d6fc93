"""A cancel that reaches an executor between its claim of the run and the run's start is not
lost (found by the JS SDK's keyed cancel test, where a ``slow`` run cancelled at once ran to
``success``: the executor dropped the ``run-cancel`` message of a run it did not hold yet, and
only its heartbeat, a third of a lease later, would have seen the cancel).

The executor runs in this process on a real runtime (PostgreSQL, in-process bus); its claim
statement is the real one, held back after its commit until the cancel has been published.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from functions.executor import worker
from functions.executor.worker import Executor
from shared.api.runs import RunCreateStateless
from shared.api.threads import ThreadCreate
from shared.auth.context import open_context
from shared.bootstrap import close_runtime, load_project, open_runtime
from shared.config import Settings
from shared.db import runs as runs_db
from shared.runtime.context import Runtime
from shared.services import runs as runs_service
from shared.services import threads as threads_service
from tests.faults.helpers import eventually
from tests.support import TEST_GRAPHS, create_database


@pytest.fixture
async def rt(database_url: str) -> AsyncIterator[Runtime]:
    """A real runtime on the test graphs, with leases long enough that no heartbeat comes to
    the rescue during the test."""
    dsn = await create_database(database_url, "cancel_race")
    settings = Settings(config=TEST_GRAPHS, database_url=dsn, lease_seconds=300)
    project, graphs = load_project(settings)
    runtime = await open_runtime(settings, dsn, project, graphs, in_process_bus=True)
    yield runtime
    await close_runtime(runtime)


async def test_a_cancel_published_while_the_claim_is_in_flight_interrupts_the_run(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    claimed, cancelled = asyncio.Event(), asyncio.Event()
    real_claim = runs_db.claim

    async def claim_then_wait(*args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        rows = await real_claim(*args, **kwargs)  # committed: the run is running here
        if rows:
            claimed.set()
            await cancelled.wait()
        return rows

    monkeypatch.setattr(worker.runs_db, "claim", claim_then_wait)
    executor = Executor(rt, n_jobs=1)
    await executor.start()
    try:
        body = RunCreateStateless.model_validate(
            {"assistant_id": "slow", "input": {}, "config": {"configurable": {"sleep": 20}}}
        )
        thread = await threads_service.create_thread(rt, open_context(), ThreadCreate())
        thread_id = uuid.UUID(str(thread["thread_id"]))
        run = await runs_service.create_run(rt, open_context(), thread_id, body)
        async with asyncio.timeout(10):
            await claimed.wait()
        run_id = uuid.UUID(str(run["run_id"]))
        assert await runs_service.cancel_runs(rt, [run_id], "interrupt") == [run_id]
        await asyncio.sleep(0.2)  # the executor has received the cancel by now
        cancelled.set()

        async def ended() -> str | None:
            row = await runs_db.get(rt.db.pool, run_id)
            assert row is not None
            return None if row["status"] in ("pending", "running") else str(row["status"])

        assert await eventually(ended, within=5, what="the cancelled run's end") == "interrupted"
    finally:
        cancelled.set()
        await executor.stop()
