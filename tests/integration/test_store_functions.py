"""The store with separate functions on one PostgreSQL: graph code on an executor and the API
of intake share it, and the TTL sweeper really deletes expired rows (seen in PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db.pool import Database
from tests.support import ROOT, Server, executor_id, sdk, start

GRAPHS = ROOT / "tests" / "graphs"


@pytest.fixture
def intake(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """``lg-deploy intake`` and ``lg-deploy executor`` started together, with a store index and
    a sweep every 0.6 s; yields intake."""
    config = tmp_path / "langgraph.json"
    store = {
        "index": {"dims": 26, "embed": f"{GRAPHS / 'embeddings.py'}:letters"},
        "ttl": {"sweep_interval_minutes": 0.01},
    }
    graphs = {"memory": f"{GRAPHS / 'graphs.py'}:memory"}
    config.write_text(json.dumps({"dependencies": [str(GRAPHS)], "graphs": graphs, "store": store}))
    executor = start(
        "executor", config=config, database_url=database_url, log=tmp_path / "executor.log"
    )
    api = start("intake", config=config, database_url=database_url, log=tmp_path / "intake.log")
    try:
        executor_id(executor)
        yield api
    finally:
        api.stop()
        executor.stop()


async def test_graph_code_on_the_executor_writes_items_intake_serves(intake: Server) -> None:
    user = uuid.uuid4().hex
    async with sdk(intake) as client:
        await client.store.put_item(["memories", user], "seed", {"from": "intake"})
        result = await client.runs.wait(None, "memory", input={"user": user, "facts": ["fig"]})
        fact = await client.store.get_item(["memories", user], "fact-0")
        found = await client.store.search_items(["memories", user], query="fig", limit=1)
    assert result["seed"] == {"from": "intake"}
    assert fact["value"] == {"text": "fig"}
    assert [item["key"] for item in found["items"]] == ["fact-0"]


async def test_the_sweeper_deletes_expired_rows(intake: Server, db: Database) -> None:
    label = uuid.uuid4().hex
    async with sdk(intake) as client:
        await client.store.put_item([label], "brief", {"v": 1}, ttl=0.02)
        await client.store.put_item([label], "kept", {"v": 2})
    for _ in range(300):
        rows = await db.pool.fetch("SELECT key FROM store WHERE prefix = $1", f"default.{label}")
        if [row["key"] for row in rows] == ["kept"]:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"expired row never deleted: {rows}")
