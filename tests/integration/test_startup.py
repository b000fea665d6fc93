"""Several functions starting at once on a fresh database all come up (G10: no operator).

Each starter migrates the database and creates the checkpointer's tables, whose indexes are
built ``CONCURRENTLY``; starters waiting their turn must not deadlock with that build.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db.pool import Database
from tests.support import LG_DEPLOY, ROOT, TEST_GRAPHS, Server, executor_id, start, wait_ready


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


def test_a_project_with_auth_does_not_start_and_names_the_key(tmp_path: Path) -> None:
    """``auth`` is not implemented: serving the project wide open instead would be unsafe, so
    ``lg-deploy dev`` stops before starting anything (no PostgreSQL), exit code 2 like every
    invalid ``langgraph.json``, with one line naming the file and the key."""
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
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [*LG_DEPLOY, "dev", "--config", str(config), "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    [message] = [line for line in done.stderr.splitlines() if "lg-deploy:" in line]
    assert message.startswith(f"lg-deploy: invalid langgraph.json: {config}: auth: ")
    assert "not supported" in message
    assert not data_dir.exists()
