"""Build a :class:`~shared.runtime.context.Runtime`: project, graphs, database, bus, store."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import asyncpg
from aiokafka.errors import KafkaError

from shared.auth.custom import custom_access
from shared.auth.keys import KeysAccess
from shared.bus.base import Bus
from shared.bus.inprocess import InProcessBus
from shared.bus.pgnotify import PgNotifyBus
from shared.config import Settings
from shared.db import assistants as assistants_db
from shared.db.migrate import apply_migrations, setup_checkpointer_tables
from shared.db.pool import Database, open_database
from shared.graphs.config import ProjectConfig, apply_environment, load_project_config
from shared.graphs.registry import GraphRegistry
from shared.ids import system_assistant_id
from shared.kafka.bus import KafkaBus
from shared.kafka.producer import EventProducer
from shared.kafka.topics import ensure_topics
from shared.runtime.context import Runtime
from shared.runtime.store import close_store, open_store, parse_store_config
from shared.webhooks.config import load_webhook_config

log = logging.getLogger(__name__)


async def connect_with_retry(settings: Settings, dsn: str, attempts: int = 30) -> Database:
    """Open the pools, retrying while PostgreSQL is not up yet (1 s apart)."""
    for attempt in range(attempts):
        try:
            return await open_database(
                dsn,
                pool_size=settings.db_pool_size,
                checkpoint_pool_size=settings.checkpointer_pool_size,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            if attempt == attempts - 1:
                raise
            log.warning("database not reachable (%s); retrying", exc)
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def open_kafka(settings: Settings, attempts: int = 30) -> EventProducer:
    """Create missing topics and start the process's producer, retrying while no broker
    answers (1 s apart); raises ``KafkaError`` after ``attempts`` tries."""
    for attempt in range(attempts):
        try:
            await ensure_topics(settings)
            producer = EventProducer(settings, event_source())
            await producer.start()
            return producer
        except KafkaError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("Kafka not reachable (%r); retrying", exc)
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


def event_source() -> str:
    """This process's CloudEvent ``source``: ``/lg-deploy/<host>/<pid>``."""
    return f"/lg-deploy/{socket.gethostname()}/{os.getpid()}"


def load_project(settings: Settings) -> tuple[ProjectConfig, GraphRegistry]:
    """Read ``langgraph.json``, apply its ``env`` and import its graphs.

    Raises :class:`~shared.graphs.config.ConfigError`; call it before starting anything else.
    """
    project = load_project_config(settings.config)
    parse_store_config(project)  # a bad store section stops start-up before PostgreSQL starts
    apply_environment(project)
    load_webhook_config(project)  # so does a bad webhooks section (after env: it reads it)
    graphs = GraphRegistry.load(project)
    custom_access(project)  # and custom auth that does not load (imported once per process)
    return project, graphs


async def open_runtime(
    settings: Settings,
    dsn: str,
    project: ProjectConfig,
    graphs: GraphRegistry,
    *,
    in_process_bus: bool,
) -> Runtime:
    """Migrate the database, create system assistants, open the store (its sweeper runs in
    every process) and start the bus (in-process, or LISTEN/NOTIFY for separate processes).
    Access is by built-in API keys (open while none exists, :mod:`shared.auth.keys`)."""
    db = await connect_with_retry(settings, dsn)
    async with db.pool.acquire() as conn:
        await apply_migrations(conn)
    await setup_checkpointer_tables(db.checkpoint_pool)
    store = await open_store(db.checkpoint_pool, project)
    await assistants_db.ensure_system_assistants(
        db.pool,
        {
            system_assistant_id(g): assistants_db.SystemAssistant(
                g, graphs.name(g), graphs.description(g)
            )
            for g in graphs.graph_ids
        },
    )
    bus: Bus = InProcessBus() if in_process_bus else PgNotifyBus(dsn, db.pool)
    producer = None
    if settings.kafka_bootstrap and not in_process_bus:
        producer = await open_kafka(settings)
        bus = KafkaBus(bus, producer)
    await bus.start()
    return Runtime(
        settings=settings,
        db=db,
        bus=bus,
        project=project,
        graphs=graphs,
        store=store,
        webhooks=load_webhook_config(project),
        access=custom_access(project)
        or KeysAccess(db.pool, settings.api_key_cache_seconds, settings.require_api_key),
        producer=producer,
    )


async def close_runtime(rt: Runtime) -> None:
    """Stop the bus and the store's sweeper, and close the pools."""
    await rt.bus.close()
    if rt.producer is not None:
        await rt.producer.stop()
    if rt.store is not None:
        await close_store(rt.store)
    await rt.db.close()
