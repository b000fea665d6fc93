"""Fixtures of the fault tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from tests.support import postgres_dir


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """An empty ``--data-dir`` for one test's ``lg-deploy dev`` (see :func:`postgres_dir`)."""
    with postgres_dir("fault") as path:
        yield path / "data"


@dataclass
class OwnPostgres:
    """An embedded PostgreSQL this test process started: stop and start it at will (the data
    and the libpq URI stay the same)."""

    data: Path
    url: str

    def stop(self) -> None:
        """Stop the server (fast shutdown: every connection is cut)."""
        stop_embedded_postgres(self.data)

    def start(self) -> None:
        """Start it again on the same data."""
        self.url = start_embedded_postgres(self.data)


@pytest.fixture(scope="module")
def postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL of this test module alone, which its tests may stop and start."""
    with postgres_dir("faults") as base:
        server = OwnPostgres(base / "data", start_embedded_postgres(base / "data"))
        try:
            yield server
        finally:
            server.stop()
