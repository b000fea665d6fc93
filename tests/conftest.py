"""Fixtures: a real ``lg-deploy dev`` server on the test graphs, and the official SDK client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from shared.infra.kafka import LocalKafka
from tests.kafka_support import kafka_broker
from tests.support import Server, dev_server, sdk, topology_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server for the API tests: ``lg-deploy dev`` (embedded PostgreSQL in a temp folder),
    or with ``LG_DEPLOY_TEST_SERVER=up`` the production topology of ``lg-deploy up`` (Kafka,
    one process per function), so the same tests show the same API behaviour on both."""
    if os.environ.get("LG_DEPLOY_TEST_SERVER") == "up":
        with topology_server("api") as srv:
            yield srv
    else:
        with dev_server("api") as srv:
            yield srv


@pytest.fixture(scope="session")
async def client(server: Server) -> AsyncIterator[LangGraphClient]:
    """The official ``langgraph_sdk`` async client on :func:`server`."""
    async with sdk(server) as c:
        yield c


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP on :func:`server`, for headers and bodies the SDK would never send."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A file the test graphs append one line to per node execution."""
    return tmp_path / "ledger.txt"


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    """A real single-node Kafka (KRaft) on free ports, started when first asked for and
    stopped at the end of the session; ``kafka.bootstrap`` is ``"127.0.0.1:<port>"``."""
    with kafka_broker() as broker:
        yield broker
