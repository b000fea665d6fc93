"""Fixtures of the observability tests: one ``lg-deploy up`` for the session (the metrics
that only a topology has, and the real Prometheus scraping it); a real Jaeger, a PostgreSQL of
the module's own, the model stub of the ecosystem tests, and the production topology exporting
traces to Jaeger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from shared.infra.kafka import LocalKafka
from tests.ecosystem.conftest import PROJECT, LlmStub, llm_stub  # noqa: F401  (a fixture)
from tests.faults.helpers import FAULT_ENV
from tests.observability.jaeger import Jaeger, jaeger
from tests.observability.support import Up, up_topology
from tests.support import ROOT, postgres_dir
from tests.topology import Topology, kafka_topology
from tests.webhook_receiver import SECRET_ENV, Receiver, receiver, write_project

UP_ENV = {"LG_DEPLOY_N_JOBS": "1"}
"""One slot in the one executor: a single long run saturates it and queues the next."""


@pytest.fixture(scope="session")
def up() -> Iterator[Up]:
    """``lg-deploy up`` with one executor of one slot (tests/observability/support.py)."""
    with up_topology("observability", UP_ENV) as topology:
        yield topology


@pytest.fixture(scope="module")
def tracing_backend() -> Iterator[Jaeger]:
    """Jaeger v2 on free ports, for the module."""
    with jaeger() as running:
        yield running


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    """The webhook receiver of the module's runs."""
    with receiver() as running:
        yield running


@pytest.fixture(scope="module")
def traced_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``langgraph.json`` with the tool-calling ``react_agent`` (ecosystem project: a
    ``create_react_agent`` on the model stub), the test graphs' ``slow`` (3 steps of
    ``configurable.sleep`` s) and webhooks to loopback receivers."""
    path = write_project(tmp_path_factory.mktemp("traced"))
    config = json.loads(path.read_text())
    config["dependencies"].append(str(PROJECT))
    config["graphs"] = {
        "react_agent": f"{PROJECT / 'react_agent.py'}:graph",
        "slow": f"{ROOT / 'tests' / 'graphs' / 'graphs.py'}:slow",
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def traced(
    tracing_backend: Jaeger,
    llm_stub: LlmStub,  # noqa: F811
    kafka: LocalKafka,
    traced_project: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Topology]:
    """Intake, two executors and webhooks as processes on Kafka and a PostgreSQL of the
    module, exporting traces to :func:`tracing_backend` (short leases: a dead executor's run
    is reclaimed within seconds)."""
    env = {**tracing_backend.env, **llm_stub.env, **SECRET_ENV, **FAULT_ENV}
    with postgres_dir("traces") as base:
        url = start_embedded_postgres(base / "data")
        try:
            with kafka_topology(
                url,
                kafka.bootstrap,
                tmp_path_factory.mktemp("functions"),
                executors=2,
                others=("webhooks",),
                env=env,
                config=traced_project,
            ) as topology:
                yield topology
        finally:
            stop_embedded_postgres(base / "data")
