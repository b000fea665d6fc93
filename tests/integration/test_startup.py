"""Several functions starting at once on a fresh database all come up (G10: no operator).

Each starter migrates the database and creates the checkpointer's tables, whose indexes are
built ``CONCURRENTLY``; starters waiting their turn must not deadlock with that build. Each
start also syncs the graphs' system assistants with their graphs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db.pool import Database
from shared.ids import system_assistant_id
from tests.support import (
    ROOT,
    TEST_GRAPHS,
    Server,
    executor_id,
    refused_start,
    sdk,
    start,
    wait_ready,
)


@pytest.fixture
async def fresh_database_url(database_url: str, db: Database) -> str:
    """The URI of a new, empty database on the session's server."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    await db.pool.execute(f"CREATE DATABASE {name}")
    return database_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def started() -> Iterator[list[Server]]:
    """Servers a test starts; stopped after it."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


async def test_intake_and_executors_starting_together_on_a_fresh_database_all_come_up(
    fresh_database_url: str, started: list[Server], tmp_path: Path
) -> None:
    for i in range(3):
        started.append(
            start("executor", database_url=fresh_database_url, log=tmp_path / f"e{i}.log")
        )
    started.append(
        start("intake", database_url=fresh_database_url, log=tmp_path / "i.log", wait=False)
    )
    wait_ready(started[-1])
    ids = {executor_id(server) for server in started[:-1]}
    assert len(ids) == 3


async def _named_versions(
    config: Path, database_url: str, log: Path
) -> list[tuple[int, str, str | None]]:
    """Start intake on ``config``; the (version, name, description) of graph ``named``'s
    system assistant, newest first."""
    server = start("intake", config=config, database_url=database_url, log=log)
    try:
        async with sdk(server) as client:
            versions = await client.assistants.get_versions(str(system_assistant_id("named")))
    finally:
        server.stop()
    return [(v["version"], v["name"], v["description"]) for v in versions]


async def test_a_renamed_graph_renames_its_system_assistant_at_the_next_start(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """As the official server does: the system assistant takes the graph's own name (else
    its graph id) and description; a change becomes a new version at the next start."""
    graphs = ROOT / "tests" / "graphs"
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"named": f"{graphs}/graphs.py:echo"}}))
    first = await _named_versions(config, fresh_database_url, tmp_path / "1.log")
    assert first == [(1, "named", None)]

    spec = {"path": f"{graphs}/shapes.py:named", "description": "remembers"}
    config.write_text(json.dumps({"graphs": {"named": spec}}))
    renamed = [(2, "MemoryAgent", "remembers"), (1, "named", None)]
    assert await _named_versions(config, fresh_database_url, tmp_path / "2.log") == renamed
    assert await _named_versions(config, fresh_database_url, tmp_path / "3.log") == renamed


def test_a_project_whose_auth_does_not_load_does_not_start_and_names_the_key(
    tmp_path: Path,
) -> None:
    """An ``auth.path`` that names no ``langgraph_sdk.Auth`` would leave every endpoint open:
    ``lg-deploy dev`` stops before starting anything (no PostgreSQL), exit code 2 like every
    invalid ``langgraph.json``, with one line naming the file and the key."""
    (tmp_path / "auth.py").write_text("auth = 42\n")
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": [str(TEST_GRAPHS.parent)],
                "graphs": {"echo": f"{TEST_GRAPHS.parent}/graphs.py:echo"},
                "auth": {"path": "./auth.py:auth"},
            }
        )
    )
    stderr = refused_start(config, tmp_path / "data")
    [message] = [line for line in stderr.splitlines() if "lg-deploy:" in line]
    assert message == (
        f"lg-deploy: invalid langgraph.json: {config}: auth.path: "
        "'auth' is a int, not a langgraph_sdk.Auth"
    )
