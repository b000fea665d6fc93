"""A stateless run's temporary thread takes its checkpoints with it: nothing of it is left in
langgraph-checkpoint-postgres' tables once the thread is gone, while a kept thread keeps them."""

from __future__ import annotations

import httpx

from shared.db.pool import Database
from tests.faults.helpers import eventually
from tests.integration.conftest import Cluster

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


async def _checkpoint_rows(db: Database, thread_id: str) -> int:
    counts = [
        await db.pool.fetchval(f"SELECT count(*) FROM {table} WHERE thread_id = $1", thread_id)
        for table in CHECKPOINT_TABLES
    ]
    return sum(counts)


async def _stateless_wait(http: httpx.AsyncClient, **extra: str) -> str:
    """Run ``echo`` through ``POST /runs/wait``; the temporary thread's id (Content-Location)."""
    answer = await http.post("/runs/wait", json={"assistant_id": "echo", "input": {}, **extra})
    assert answer.status_code == 200 and answer.json() == {"items": ["one"]}
    return answer.headers["content-location"].split("/")[2]


async def test_a_stateless_runs_checkpoints_go_with_its_thread(
    cluster: Cluster, db: Database
) -> None:
    async with httpx.AsyncClient(base_url=cluster.intake.url, timeout=30) as http:
        gone = await _stateless_wait(http)
        kept = await _stateless_wait(http, on_completion="keep")

        async def thread_gone() -> bool:
            return (await http.get(f"/threads/{gone}")).status_code == 404

        await eventually(thread_gone, within=10, what="the temporary thread to go")
        assert await _checkpoint_rows(db, gone) == 0
        assert await _checkpoint_rows(db, kept) > 0
        assert (await http.get(f"/threads/{kept}/state")).json()["values"] == {"items": ["one"]}
