"""The production topology for tests: functions as processes connected by a real Kafka and a
real PostgreSQL (what ``lg-deploy up`` runs, with the pieces under the test's control).

Each topology gets a fresh topic prefix, so consumer groups and lag of one test never meet
another's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import TEST_GRAPHS, Server, start, wait_ready


@dataclass
class Topology:
    """Running functions of one test, by name: ``intake``, ``executor1``…, ``webhooks``…"""

    env: dict[str, str]
    """The environment every function got (Kafka bootstrap, topic prefix, test settings)."""
    database_url: str
    logs: Path
    config: Path = TEST_GRAPHS
    """The ``langgraph.json`` every function runs."""
    servers: dict[str, Server] = field(default_factory=dict)

    @property
    def intake(self) -> Server:
        """The intake function (the API)."""
        return self.servers["intake"]

    @property
    def executors(self) -> list[Server]:
        """The executors started so far, in start order."""
        return [s for name, s in self.servers.items() if name.startswith("executor")]

    @property
    def prefix(self) -> str:
        """The Kafka topic prefix of this topology."""
        return self.env["LG_DEPLOY_KAFKA_TOPIC_PREFIX"]

    def start(self, command: str, extra: list[str] | None = None) -> Server:
        """Start ``lg-deploy <command>`` in this topology and wait until it serves ``/ok``
        (an executor has joined the ``run-requests`` consumer group by then). Executors are
        named ``executor1``, ``executor2``…; the log is ``<name>.log``."""
        name = command
        if command == "executor":
            name = f"executor{len(self.executors) + 1}"
        server = start(
            command,
            config=self.config,
            database_url=self.database_url,
            env=self.env,
            log=self.logs / f"{name}.log",
            extra=["--kafka-bootstrap", self.env["LG_DEPLOY_KAFKA_BOOTSTRAP"], *(extra or [])],
            wait=False,
        )
        self.servers[name] = server
        wait_ready(server)
        return server

    def logs_text(self) -> str:
        """Every function's log, concatenated (for failure messages)."""
        return "\n".join(f"== {n}\n{s.log_text()}" for n, s in self.servers.items())


@contextmanager
def kafka_topology(
    database_url: str,
    bootstrap: str,
    logs: Path,
    *,
    executors: int = 2,
    n_jobs: int = 4,
    others: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    config: Path = TEST_GRAPHS,
) -> Iterator[Topology]:
    """Intake, ``executors`` executors (``n_jobs`` slots each) and the functions named in
    ``others`` (``"webhooks"``, ``"cron"``, ``"builder"``) on ``database_url`` and the Kafka at
    ``bootstrap``, under a fresh topic prefix, all on ``config``; all stopped (SIGINT) on
    exit."""
    full_env = {
        "LG_DEPLOY_KAFKA_BOOTSTRAP": bootstrap,
        "LG_DEPLOY_KAFKA_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}.",
        **(env or {}),
    }
    topology = Topology(full_env, database_url, logs, config)
    try:
        topology.start("intake")
        for _ in range(executors):
            topology.start("executor", ["--n-jobs", str(n_jobs)])
        for name in others:
            topology.start(name)
        yield topology
    finally:
        for server in reversed(topology.servers.values()):
            server.stop()
