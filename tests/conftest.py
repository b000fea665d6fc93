"""Fixtures: a real ``lg-deploy dev`` server on the test graphs, and the official SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.support import Server, postgres_dir, start


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One ``lg-deploy dev`` for the API tests (embedded PostgreSQL in a temp folder)."""
    with postgres_dir("api") as base:
        srv = start("dev", data_dir=base / "data", log=base / "server.log")
        yield srv
        srv.stop()


@pytest.fixture(scope="session")
async def client(server: Server) -> AsyncIterator[LangGraphClient]:
    """The official ``langgraph_sdk`` async client on :func:`server`."""
    c = get_client(url=server.url)
    yield c
    await c.aclose()


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A file the test graphs append one line to per node execution."""
    return tmp_path / "ledger.txt"
