"""Fixtures: one real PostgreSQL (embedded, started by the tests) and processes on it.

``cluster`` runs ``lg-deploy intake`` and two ``lg-deploy executor`` processes against that
database, as a deployment with separate functions would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.db.pool import Database, open_database
from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from tests.faults.helpers import FAULT_ENV
from tests.support import Server, executor_id, postgres_dir, start


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A libpq URI of a PostgreSQL server that lives for the whole test session."""
    with postgres_dir("integration") as base:
        uri = start_embedded_postgres(base / "data")
        yield uri
        stop_embedded_postgres(base / "data")


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    """The tests' own pools on :func:`database_url` (asyncpg, and psycopg for checkpoints)."""
    database = await open_database(database_url, pool_size=4, checkpoint_pool_size=2)
    yield database
    await database.close()


@dataclass
class Executor:
    """A running ``lg-deploy executor`` and the id it claims runs under."""

    server: Server
    executor_id: str


@dataclass
class Cluster:
    """``lg-deploy intake`` plus executors on one database, with short leases."""

    intake: Server
    executors: list[Executor]

    def by_id(self, executor_id: str) -> Executor:
        """The executor claiming under ``executor_id``."""
        return next(e for e in self.executors if e.executor_id == executor_id)


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Intake and two executors (2 concurrent runs each, so both must take work)."""
    procs = [
        start(
            "executor",
            database_url=database_url,
            env=FAULT_ENV,
            log=tmp_path / f"executor{i}.log",
            extra=["--n-jobs", "2"],
        )
        for i in (1, 2)
    ]
    try:
        intake = start(
            "intake", database_url=database_url, env=FAULT_ENV, log=tmp_path / "intake.log"
        )
        procs.append(intake)
        executors = [Executor(p, executor_id(p)) for p in procs[:2]]
        yield Cluster(intake, executors)
    finally:
        for proc in procs:
            proc.stop()
