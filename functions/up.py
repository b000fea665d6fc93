"""``lg-deploy up``: the production topology on one machine, for a user to try.

PostgreSQL (embedded, under ``--data-dir``) and Apache Kafka (``shared/infra/kafka.sh``, jars
from Maven Central) are started by the project itself; then one process per function: intake on
``--port``, ``--executors`` executors, cron, webhooks and builder, each on its own port (its
``/ok`` and ``/metrics``), connected only through Kafka and PostgreSQL exactly as in a
cluster. A timer here stands in for Knative's PingSource and sends a ``dev.lgdeploy.cron.tick``
to the ``cron-ticks`` topic every ``cron_tick_seconds``. A function process that exits is
started again after a second (as its Deployment would); Ctrl-C or SIGTERM stops the functions
(executors hand their runs back), then Kafka and PostgreSQL. Data of both survives restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shared.cloud_events.types import CRON_TICK, CRON_TICKS_TOPIC, new_event
from shared.config import Settings
from shared.embedded import ensure_max_connections, stop_embedded_postgres
from shared.infra.kafka import LocalKafka
from shared.kafka.producer import EventProducer
from shared.kafka.topics import ensure_topics

log = logging.getLogger("lg-deploy")

RESTART_DELAY_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0
"""How long the functions get to stop (executors hand runs back) before they are killed."""


@dataclass
class Child:
    """One function process: its ``lg-deploy`` arguments and the running process."""

    name: str
    argv: list[str]
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)


def plan(settings: Settings, executors: int) -> list[Child]:
    """The function processes of the topology: intake on ``settings.port``, the others on the
    ports after it (intake ``port``, executors ``port+1…port+K``, then cron, webhooks,
    builder)."""
    port = settings.port
    host = ["--host", settings.host]
    children = [Child("intake", ["intake", *host, "--port", str(port)])]
    names = [f"executor-{i + 1}" for i in range(executors)] + ["cron", "webhooks", "builder"]
    for offset, name in enumerate(names, start=1):
        command = name.split("-")[0]
        children.append(Child(name, [command, "--host", "127.0.0.1", "--port", str(port + offset)]))
    return children


async def run_up(settings: Settings, executors: int, kafka_port: int) -> None:
    """Start PostgreSQL (unless ``settings.database_url`` names one), Kafka and the functions;
    run until SIGINT/SIGTERM; stop them all. ``settings.config`` must be an absolute path (the
    functions get it as it is); ``settings.n_jobs`` goes to every executor.

    Raises RuntimeError when Kafka cannot start (its message names the broker log) and
    ``subprocess.CalledProcessError`` when PostgreSQL cannot.
    """
    data_dir = settings.data_dir
    dsn = settings.database_url
    if dsn is None:
        pools = settings.db_pool_size + settings.checkpointer_pool_size + 4
        dsn = await asyncio.to_thread(ensure_max_connections, data_dir, (executors + 4) * pools)
    kafka = LocalKafka(Path(data_dir) / "kafka", kafka_port)
    try:
        bootstrap = await asyncio.to_thread(kafka.start)
        topology = settings.model_copy(update={"kafka_bootstrap": bootstrap})
        await ensure_topics(topology)
        env = {
            **os.environ,
            "LG_DEPLOY_DATABASE_URL": dsn,
            "LG_DEPLOY_KAFKA_BOOTSTRAP": bootstrap,
            "LG_DEPLOY_CONFIG": str(settings.config),
            "LG_DEPLOY_KAFKA_CONSUMER": "true",
            "LG_DEPLOY_N_JOBS": str(settings.n_jobs),
        }
        await _supervise(topology, plan(settings, executors), env)
    finally:
        await asyncio.to_thread(kafka.stop)
        if settings.database_url is None:
            await asyncio.to_thread(stop_embedded_postgres, data_dir)


async def _supervise(settings: Settings, children: list[Child], env: dict[str, str]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    keepers = [asyncio.create_task(_keep_running(child, env, stopping)) for child in children]
    ticker = asyncio.create_task(_tick(settings, stopping))
    for child in children:
        log.info("lg-deploy up: %s on port %s", child.name, child.argv[-1])
    log.info("lg-deploy up: API on http://%s:%s", settings.host, settings.port)
    await stopping.wait()
    ticker.cancel()
    await _stop_all(children)
    await asyncio.gather(*keepers, ticker, return_exceptions=True)


async def _keep_running(child: Child, env: dict[str, str], stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        child.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "functions.cli", *child.argv, env=env
        )
        code = await child.process.wait()
        if not stopping.is_set():
            log.warning("lg-deploy up: %s exited with %s; restarting", child.name, code)
            await asyncio.sleep(RESTART_DELAY_SECONDS)


async def _stop_all(children: list[Child]) -> None:
    running = [c.process for c in children if c.process and c.process.returncode is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(STOP_GRACE_SECONDS):
            await asyncio.gather(*(p.wait() for p in running))
    except TimeoutError:
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


async def _tick(settings: Settings, stopping: asyncio.Event) -> None:
    """The PingSource stand-in: a ``dev.lgdeploy.cron.tick`` every ``cron_tick_seconds``."""
    producer = EventProducer(settings, "/lg-deploy/up/ticker")
    await producer.start()
    try:
        while not stopping.is_set():
            producer.hint(CRON_TICKS_TOPIC, new_event(CRON_TICK, producer.source, {}))
            await asyncio.sleep(settings.cron_tick_seconds)
    finally:
        await producer.stop()
